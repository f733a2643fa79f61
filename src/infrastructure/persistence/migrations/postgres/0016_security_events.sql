-- Shared Signals (OpenID SSF, CAEP): a session's end is a security event, written in the
-- transaction that ends its row and kept for an access token's lifetime, so resource servers
-- that poll for it (RFC 8936) refuse that session's tokens before they expire. The session
-- id alone names it (random, opaque): no row here says whose it was, so an erased account
-- leaves nothing of its own.
CREATE TABLE security_events (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    session_id TEXT,
    reason TEXT,
    occurred_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX security_events_occurred ON security_events (occurred_at);
-- What each receiver acknowledged (RFC 8936 §2.4): the rest is sent to it again.
CREATE TABLE security_event_acks (
    receiver TEXT NOT NULL,
    event_id BIGINT NOT NULL REFERENCES security_events(id) ON DELETE CASCADE,
    PRIMARY KEY (receiver, event_id)
);
