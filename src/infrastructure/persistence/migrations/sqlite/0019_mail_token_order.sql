-- The order mail tokens were issued in, by the database and not by any worker's clock: a way
-- back ends the ways back of changes made after it, and two workers' clocks apart by more
-- than the time between two changes ordered them wrongly by expiry. Each new token takes the
-- next number in its own transaction, so one issued after another committed comes later.
-- The tokens there are keep the order they were written in.
ALTER TABLE mail_tokens ADD COLUMN seq INTEGER;
UPDATE mail_tokens SET seq = rowid;
CREATE INDEX mail_tokens_seq ON mail_tokens (seq);
