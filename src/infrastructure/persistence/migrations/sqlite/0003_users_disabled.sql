-- Administration: a disabled account keeps its data but can no longer sign in.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
