-- The account's security activity (GET /auth/activity): the audit events that name a user,
-- kept AUTH_ACTIVITY_RETENTION_DAYS and erased with the account. Nothing secret: what
-- happened, when, from which address and browser, how (the sign-in's amr) and why.
CREATE TABLE security_activity (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    type TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    ip_address TEXT,
    user_agent TEXT,
    session_id TEXT,
    method TEXT,
    reason TEXT,
    actor TEXT
);
CREATE INDEX security_activity_user ON security_activity (user_id, id);
CREATE INDEX security_activity_at ON security_activity (at);
