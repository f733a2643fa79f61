-- Pwned Passwords: when the user was mailed that their password is breached (once per
-- password: setting a new one clears it).
ALTER TABLE users ADD COLUMN breach_mailed_at TIMESTAMPTZ;
