-- The order mail tokens were issued in, by the database and not by any worker's clock: a way
-- back ends the ways back of changes made after it, and two workers' clocks apart by more
-- than the time between two changes ordered them wrongly by expiry. Each new token takes the
-- next number in its own transaction, so one issued after another committed comes later.
-- The tokens there are take the order of their expiry, as before.
ALTER TABLE mail_tokens ADD COLUMN seq BIGINT;
UPDATE mail_tokens SET seq = ordered.n
FROM (SELECT hash, ROW_NUMBER() OVER (ORDER BY expires_at, hash) AS n FROM mail_tokens) AS ordered
WHERE mail_tokens.hash = ordered.hash;
ALTER TABLE mail_tokens ALTER COLUMN seq SET NOT NULL;
CREATE INDEX mail_tokens_seq ON mail_tokens (seq);
