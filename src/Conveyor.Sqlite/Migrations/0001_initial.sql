-- 0001_initial: the Conveyor schema, version 1.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is below 1, then sets user_version = 1
-- in the same transaction, so two processes that start together create the schema exactly once. Every
-- statement is idempotent anyway (IF NOT EXISTS / OR IGNORE), for people who apply it by hand.
--
-- Times are INTEGER microseconds since the Unix epoch (UTC), durations INTEGER microseconds; every time is
-- the store's TimeProvider's, never SQLite's clock.

CREATE TABLE IF NOT EXISTS jobs (
    seq              INTEGER PRIMARY KEY,          -- rowid: the cheap handle every statement uses internally
    id               TEXT    NOT NULL UNIQUE,
    type             TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    tenant           TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('scheduled', 'pending', 'active', 'retrying',
                                                       'succeeded', 'partial', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_retry        INTEGER NOT NULL,
    timeout_us       INTEGER,
    deadline         INTEGER,
    scheduled_at     INTEGER,                      -- process-at, or the end of a retry's backoff
    unique_key       TEXT,
    unique_until     INTEGER,
    retention_us     INTEGER NOT NULL,
    progress         INTEGER NOT NULL DEFAULT 0,
    trace_parent     TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    enqueued_at      INTEGER,                      -- when the job last became pending
    pending_seq      INTEGER,                      -- order in which jobs became pending (counters.pending_seq)
    started_at       INTEGER,
    completed_at     INTEGER,
    expires_at       INTEGER,                      -- finished jobs only: completed_at + retention
    lease_token      INTEGER,                      -- = pending_seq of the dequeue that leased the job
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    result_url       TEXT,
    -- Large values last, so that reading the small columns never walks overflow pages.
    payload          BLOB    NOT NULL,
    result           BLOB,
    errors           TEXT    NOT NULL DEFAULT ''   -- one JSON object per line, oldest first
);

-- Dequeue: the next pending jobs of one queue, in the order they became pending. Partial, so its size is
-- the backlog, not the history: finished, scheduled and active jobs cost a dequeue nothing.
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (queue, pending_seq) WHERE state = 'pending';

-- Promotion: scheduled and retrying jobs by due time.
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (scheduled_at) WHERE state IN ('scheduled', 'retrying');

-- Recovery: active jobs by lease expiry.
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (lease_expires_at) WHERE state = 'active';

-- Purge: finished jobs by the end of their retention.
CREATE INDEX IF NOT EXISTS jobs_expires ON jobs (expires_at) WHERE expires_at IS NOT NULL;

-- Listing: a tenant's jobs newest first, read as a keyset on (created_at, id).
CREATE INDEX IF NOT EXISTS jobs_tenant_created ON jobs (tenant, created_at, id);

-- Unique keys: the holder of a tenant's key.
CREATE INDEX IF NOT EXISTS jobs_unique ON jobs (tenant, unique_key) WHERE unique_key IS NOT NULL;

-- Monotonic counters shared by every process: pending_seq orders the pending jobs of a queue and makes
-- lease tokens (a job is leased at most once per time it becomes pending).
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO counters (name, value) VALUES ('pending_seq', 0);

-- Paused queues (a row exists only while a queue is paused), kept apart from jobs so a dequeue checks one
-- tiny table.
CREATE TABLE IF NOT EXISTS queues (
    name   TEXT    PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS locks (
    name       TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS idempotency_keys (
    key        TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_expires ON idempotency_keys (expires_at);

CREATE TABLE IF NOT EXISTS servers (
    id                TEXT    PRIMARY KEY,
    host              TEXT    NOT NULL,
    process_id        INTEGER NOT NULL,
    queues            TEXT    NOT NULL,            -- JSON object: queue name -> weight
    concurrency       INTEGER NOT NULL,
    active_jobs       INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    last_heartbeat_at INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL
) WITHOUT ROWID;
