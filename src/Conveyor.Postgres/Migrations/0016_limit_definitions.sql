-- Conveyor PostgreSQL store, migration 0016: the rate and concurrency limits in force (ILimitStore), keyed by kind
-- and name, which every server reads at each refresh. kind: 0 concurrency, 1 rate. source: 0 configuration, 1 API
-- (an API limit overrides the configured one of the same kind and name until it is deleted).
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0016_limit_definitions.sql
CREATE TABLE IF NOT EXISTS :"schema".limit_definitions (
    kind       smallint    NOT NULL,
    name       text        COLLATE "C" NOT NULL,
    queue      text        NOT NULL,
    job_type   text,
    per_tenant boolean     NOT NULL,
    lim        integer     NOT NULL,
    period_us  bigint      NOT NULL,
    burst      integer     NOT NULL,
    source     smallint    NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (kind, name)
);

INSERT INTO :"schema".schema_migrations (version, name) VALUES (16, '0016_limit_definitions') ON CONFLICT (version) DO NOTHING;
