-- An email change: the token mailed to the new address carries that address and the session
-- that asked (the change dies with it); the "this wasn't me" token of the notice to the old
-- address carries the old one, which it gives back and which no other account may take
-- while it lives (looked up by address), and the sign-in it reaches back to; a new-device
-- notice's carries where it went.
ALTER TABLE mail_tokens ADD COLUMN email TEXT;
ALTER TABLE mail_tokens ADD COLUMN session_id TEXT;
ALTER TABLE mail_tokens ADD COLUMN since TEXT;
CREATE INDEX mail_tokens_email ON mail_tokens (email);
-- The account each mail is about, so its export lists them at whatever address they went;
-- the mails already queued are the account's that had their address when they were made.
ALTER TABLE outbox ADD COLUMN user_id INTEGER;
UPDATE outbox SET user_id = (
    SELECT u.id FROM users u WHERE u.email = outbox.recipient AND outbox.created_at >= u.created_at
);
CREATE INDEX outbox_user ON outbox (user_id);
