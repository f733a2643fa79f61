-- Webhook signing secrets are sealed at rest with the secrets key, as TOTP secrets are: the
-- columns say so. Rows written before this hold plain whsec_ secrets; `authgate migrate`
-- seals them right after this file (it needs the key, which SQL has not).
ALTER TABLE webhook_endpoints RENAME COLUMN secret TO secret_sealed;
ALTER TABLE webhook_endpoints RENAME COLUMN previous_secret TO previous_secret_sealed;
