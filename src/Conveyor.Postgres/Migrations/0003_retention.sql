-- Retention at any rate: the jobs table is a queue, so every job is inserted, updated two or three times and
-- deleted within its retention. With the default autovacuum settings (vacuum when 20% of the table is dead) a
-- table of a million rows waits for 200,000 dead rows between vacuums and bloats at a steady 1,000 jobs/s.
-- Vacuum it after a fixed number of dead rows instead, and let it run without the cost-based pauses, which only
-- spread the same work over a longer time while the dead rows stand.
ALTER TABLE :"schema".jobs SET (
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 20000,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 20000,
    autovacuum_analyze_scale_factor = 0.05,
    autovacuum_vacuum_cost_delay = 0
);

INSERT INTO :"schema".schema_migrations (version, name) VALUES (3, '0003_retention') ON CONFLICT (version) DO NOTHING;
