-- Housekeeping deletes sessions past their absolute lifetime oldest first
-- (application.housekeeping): it finds them by age, without reading the whole table.
CREATE INDEX sessions_created ON sessions (created_at);
