-- How and when the user proved who they are travels with the refresh grant (like the role),
-- so a refresh mints auth_time, amr and acr without a read. A grant from before this knows
-- only its session's start and no method: aal1, step-up asks for a new proof.
ALTER TABLE refresh_families ADD COLUMN auth_time TEXT;
ALTER TABLE refresh_families ADD COLUMN amr TEXT NOT NULL DEFAULT '';
DELETE FROM refresh_families
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.id = refresh_families.session_id);
UPDATE refresh_families
SET auth_time = (SELECT sessions.created_at FROM sessions WHERE sessions.id = refresh_families.session_id);
