-- The devices each account has signed in from (the SHA-256 of the device cookie or
-- X-Device-Id), so a sign-in from a new one mails the owner.
CREATE TABLE known_devices (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_digest TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (user_id, device_digest)
);
