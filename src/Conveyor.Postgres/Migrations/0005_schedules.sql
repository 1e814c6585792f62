-- Schedules as store records (IScheduleStore), keyed by tenant and name.
-- misfire: 0 once, 1 skip, 2 all. overlap: 0 allow, 1 skip while unfinished. origin: 0 run time, 1 code/config.
CREATE TABLE IF NOT EXISTS :"schema".schedules (
    tenant        text        COLLATE "C" NOT NULL,
    name          text        COLLATE "C" NOT NULL,
    cron          text        NOT NULL,
    time_zone     text        NOT NULL,
    job_type      text        NOT NULL,
    queue         text,
    max_retry     integer,
    timeout       interval,
    misfire       smallint    NOT NULL,
    overlap       smallint    NOT NULL,
    paused        boolean     NOT NULL,
    origin        smallint    NOT NULL,
    next_fire_at  timestamptz,
    last_fire_at  timestamptz,
    last_job_id   text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    payload       bytea       NOT NULL,
    PRIMARY KEY (tenant, name)
);

-- The scheduler's one query while idle: the earliest unpaused ticks.
CREATE INDEX IF NOT EXISTS schedules_due ON :"schema".schedules (next_fire_at, tenant, name)
    WHERE NOT paused AND next_fire_at IS NOT NULL;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (5, '0005_schedules') ON CONFLICT (version) DO NOTHING;
