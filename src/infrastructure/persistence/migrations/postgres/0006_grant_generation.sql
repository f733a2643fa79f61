-- The generation of a family's current refresh token (0 for its first, one more at each
-- rotation), so a genuine token newer than the family's is told from an old one: a
-- rotation the store lost (a failover), not reuse (RFC 9700 §4.14.2). Families from
-- before hold a token of unknown generation: 0, and their successors count from 1.
ALTER TABLE refresh_families ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
