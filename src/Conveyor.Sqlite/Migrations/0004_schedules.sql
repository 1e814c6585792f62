-- 0004_schedules: schedules as store records (IScheduleStore), keyed by tenant and name.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 3 and sets user_version = 4 in the
-- same transaction. Idempotent (IF NOT EXISTS), for people who apply it by hand.
-- misfire: 0 once, 1 skip, 2 all. overlap: 0 allow, 1 skip while unfinished. origin: 0 run time, 1 code/config.
CREATE TABLE IF NOT EXISTS schedules (
    tenant        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    cron          TEXT    NOT NULL,
    time_zone     TEXT    NOT NULL,
    job_type      TEXT    NOT NULL,
    queue         TEXT,
    max_retry     INTEGER,
    timeout_us    INTEGER,
    misfire       INTEGER NOT NULL,
    overlap       INTEGER NOT NULL,
    paused        INTEGER NOT NULL,
    origin        INTEGER NOT NULL,
    next_fire_at  INTEGER,
    last_fire_at  INTEGER,
    last_job_id   TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    payload       BLOB    NOT NULL,
    PRIMARY KEY (tenant, name)
) WITHOUT ROWID;

-- The scheduler's one query while idle: the earliest unpaused ticks.
CREATE INDEX IF NOT EXISTS schedules_due ON schedules (next_fire_at, tenant, name) WHERE paused = 0 AND next_fire_at IS NOT NULL;
