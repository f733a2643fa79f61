-- An email change: the token mailed to the new address carries that address and the session
-- that asked (the change dies with it), and the "this wasn't me" token of the notice to the
-- old address carries the old one, to give it back.
ALTER TABLE mail_tokens ADD COLUMN email TEXT;
ALTER TABLE mail_tokens ADD COLUMN session_id TEXT;
