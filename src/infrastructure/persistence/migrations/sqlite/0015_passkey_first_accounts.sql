-- A passkey made with its account (a passkey-first sign-up, no password) is the account's
-- first credential, not a second factor planted before the mailbox was proven.
ALTER TABLE passkeys ADD COLUMN at_sign_up INTEGER NOT NULL DEFAULT 0;
