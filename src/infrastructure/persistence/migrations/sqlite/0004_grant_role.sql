-- The user's role travels with the refresh grant, so a refresh reads no user row.
-- NULL: a grant the application does not know the role of (it reads the user then).
ALTER TABLE refresh_families ADD COLUMN role TEXT;
UPDATE refresh_families
SET role = (SELECT users.role FROM users WHERE users.id = refresh_families.user_id);
