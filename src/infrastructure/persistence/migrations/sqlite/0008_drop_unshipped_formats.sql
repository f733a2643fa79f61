-- Before 1.0 only the formats that ship are kept. A refresh token names its family, so the
-- index of opaque tokens goes. Every family carries its user's role and the generation of
-- its current token: a family stored without a role (before roles travelled with grants)
-- goes, and its session signs in again. SQLite changes a column's constraints only by
-- rebuilding its table.
DROP TABLE refresh_tokens;

CREATE TABLE refresh_families_new (
    session_id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    current_hash TEXT NOT NULL,
    previous_hash TEXT,
    rotated_at TEXT,
    idle_expires_at TEXT NOT NULL,
    absolute_expires_at TEXT NOT NULL,
    role TEXT NOT NULL,
    generation INTEGER NOT NULL
);
INSERT INTO refresh_families_new (session_id, user_id, current_hash, previous_hash,
    rotated_at, idle_expires_at, absolute_expires_at, role, generation)
SELECT session_id, user_id, current_hash, previous_hash, rotated_at, idle_expires_at,
    absolute_expires_at, role, generation
FROM refresh_families WHERE role IS NOT NULL;
DROP TABLE refresh_families;
ALTER TABLE refresh_families_new RENAME TO refresh_families;
CREATE INDEX refresh_families_user ON refresh_families (user_id);
