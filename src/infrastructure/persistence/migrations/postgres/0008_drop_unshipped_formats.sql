-- Before 1.0 only the formats that ship are kept. A refresh token names its family, so the
-- index of opaque tokens goes. Every family carries its user's role and the generation of
-- its current token: a family stored without a role (before roles travelled with grants)
-- goes, and its session signs in again.
DROP TABLE refresh_tokens;
DELETE FROM refresh_families WHERE role IS NULL;
ALTER TABLE refresh_families
    ALTER COLUMN role SET NOT NULL,
    ALTER COLUMN generation DROP DEFAULT;
