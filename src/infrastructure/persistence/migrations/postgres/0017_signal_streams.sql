-- Shared Signals streams (OpenID SSF 1.0 §8.1.1): each verifying process opens a stream of
-- its own and acknowledges on it, so processes sharing one receiver's token never split the
-- events between them. A stream starts with every event still kept: a verifier that starts
-- (or starts again) learns every session that ended within an access token's lifetime.
-- The acknowledgements of the one stream per receiver before this go: the streams replace it.
DROP TABLE security_event_acks;
CREATE TABLE signal_streams (
    id TEXT PRIMARY KEY,
    receiver TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    polled_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX signal_streams_receiver ON signal_streams (receiver);
CREATE INDEX signal_streams_polled ON signal_streams (polled_at);
-- What each stream acknowledged (RFC 8936 §2.4): the rest is sent on it again.
CREATE TABLE security_event_acks (
    stream_id TEXT NOT NULL REFERENCES signal_streams(id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES security_events(id) ON DELETE CASCADE,
    PRIMARY KEY (stream_id, event_id)
);
CREATE INDEX security_event_acks_event ON security_event_acks (event_id);
