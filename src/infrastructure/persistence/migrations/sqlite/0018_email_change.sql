-- An email change: the token mailed to the new address carries that address and the session
-- that asked (the change dies with it); the "this wasn't me" token of the notice to the old
-- address carries the old one, which it gives back and which no other account may take
-- while it lives (looked up by address), and the sign-in it reaches back to; a new-device
-- notice's carries where it went.
ALTER TABLE mail_tokens ADD COLUMN email TEXT;
ALTER TABLE mail_tokens ADD COLUMN session_id TEXT;
ALTER TABLE mail_tokens ADD COLUMN since TEXT;
CREATE INDEX mail_tokens_email ON mail_tokens (email);
