-- 0011_workflows: continuations and batches. A job may wait for jobs and batches (state 'waiting', which no dequeue
-- reads); the transition that finishes a job or a batch resolves what waits for it in the same transaction, through
-- the triggers below, whichever statement finished it (an acknowledgement, a cancel, a recovery, a bulk action, a
-- delete).
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 10 and sets user_version = 11 in the same
-- transaction. SQLite cannot change a CHECK constraint in place, so the jobs table is copied once into one whose
-- state may be 'waiting' (a file with many jobs takes a while, once), and its indexes and triggers are made again.
-- The triggers need PRAGMA recursive_triggers = ON (a cancelled dependant may itself have dependants), which every
-- connection of Conveyor.Sqlite sets. counters.flow_released counts the jobs they made pending, so that the store
-- that ran the statement wakes its own workers (other processes see the commit through PRAGMA data_version).

INSERT OR IGNORE INTO counters (name, value) VALUES ('flow_released', 0);

CREATE TABLE jobs_v11 (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    type             TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    tenant           TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('scheduled', 'pending', 'active', 'retrying',
                                                       'succeeded', 'partial', 'failed', 'cancelled', 'waiting')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_retry        INTEGER NOT NULL,
    timeout_us       INTEGER,
    deadline         INTEGER,
    scheduled_at     INTEGER,
    unique_key       TEXT,
    unique_until     INTEGER,
    retention_us     INTEGER NOT NULL,
    progress         INTEGER NOT NULL DEFAULT 0,
    trace_parent     TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    enqueued_at      INTEGER,
    pending_seq      INTEGER,
    started_at       INTEGER,
    completed_at     INTEGER,
    expires_at       INTEGER,
    lease_token      INTEGER,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    result_url       TEXT,
    payload          BLOB    NOT NULL,
    result           BLOB,
    errors           TEXT    NOT NULL DEFAULT '',
    snooze_reason    TEXT,
    failed_retention_us    INTEGER,
    cancelled_retention_us INTEGER,
    -- 1 while something waits for the job or its finish is still to be counted in its batch: the triggers look
    -- no further for any other job, so plain jobs pay one comparison per state change.
    flow             INTEGER NOT NULL DEFAULT 0,
    waiting_for      INTEGER NOT NULL DEFAULT 0,    -- while waiting: dependencies not finished yet
    batch_id         TEXT,
    depends_on       TEXT                           -- JSON [[id, success_only, on_batch], …] as enqueued
);

INSERT INTO jobs_v11 (seq, id, type, queue, tenant, state, attempts, max_retry, timeout_us, deadline, scheduled_at,
                      unique_key, unique_until, retention_us, progress, trace_parent, created_at, updated_at,
                      enqueued_at, pending_seq, started_at, completed_at, expires_at, lease_token, lease_owner,
                      lease_expires_at, cancel_requested, result_url, payload, result, errors, snooze_reason,
                      failed_retention_us, cancelled_retention_us)
SELECT seq, id, type, queue, tenant, state, attempts, max_retry, timeout_us, deadline, scheduled_at,
       unique_key, unique_until, retention_us, progress, trace_parent, created_at, updated_at,
       enqueued_at, pending_seq, started_at, completed_at, expires_at, lease_token, lease_owner,
       lease_expires_at, cancel_requested, result_url, payload, result, errors, snooze_reason,
       failed_retention_us, cancelled_retention_us
FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_v11 RENAME TO jobs;

CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (queue, pending_seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS jobs_pending_tenant ON jobs (queue, tenant, pending_seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (scheduled_at) WHERE state IN ('scheduled', 'retrying');
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (lease_expires_at) WHERE state = 'active';
CREATE INDEX IF NOT EXISTS jobs_expires ON jobs (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_tenant_created ON jobs (tenant, created_at, id);
CREATE INDEX IF NOT EXISTS jobs_unique ON jobs (tenant, unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_queue_succeeded ON jobs (queue, completed_at) WHERE state = 'succeeded';
CREATE INDEX IF NOT EXISTS jobs_queue_unsuccessful ON jobs (queue, completed_at) WHERE state IN ('partial', 'failed', 'cancelled');
CREATE INDEX IF NOT EXISTS jobs_state_created ON jobs (state, created_at, id);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at, id);
-- A batch's members, for cancelling it.
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id) WHERE batch_id IS NOT NULL;

CREATE TRIGGER IF NOT EXISTS jobs_counted_on_insert AFTER INSERT ON jobs
BEGIN
    INSERT INTO queue_counts (queue, state, jobs) VALUES (new.queue, new.state, 1)
    ON CONFLICT (queue, state) DO UPDATE SET jobs = jobs + 1;
END;

CREATE TRIGGER IF NOT EXISTS jobs_counted_on_update AFTER UPDATE OF state, queue ON jobs
WHEN old.state IS NOT new.state OR old.queue IS NOT new.queue
BEGIN
    UPDATE queue_counts SET jobs = jobs - 1 WHERE queue = old.queue AND state = old.state;
    INSERT INTO queue_counts (queue, state, jobs) VALUES (new.queue, new.state, 1)
    ON CONFLICT (queue, state) DO UPDATE SET jobs = jobs + 1;
END;

CREATE TRIGGER IF NOT EXISTS jobs_counted_on_delete AFTER DELETE ON jobs
BEGIN
    UPDATE queue_counts SET jobs = jobs - 1 WHERE queue = old.queue AND state = old.state;
END;

-- What waits for what: one row per unresolved (dependency, dependant) pair, deleted when the dependency finishes.
CREATE TABLE IF NOT EXISTS job_dependencies (
    dependency    TEXT    NOT NULL,   -- a job's id, or a batch's id when on_batch = 1
    on_batch      INTEGER NOT NULL,
    dependant_seq INTEGER NOT NULL,   -- jobs.seq of the waiting job
    success_only  INTEGER NOT NULL,
    PRIMARY KEY (dependency, on_batch, dependant_seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS batches (
    id           TEXT    PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('running', 'succeeded', 'completed', 'cancelled')),
    total        INTEGER NOT NULL DEFAULT 0,
    succeeded    INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    cancelled    INTEGER NOT NULL DEFAULT 0,
    retention_us INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    expires_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_expires ON batches (expires_at) WHERE expires_at IS NOT NULL;

-- A job with flow = 1 finishes: counted once in its batch, then what waits for it is resolved (success-only
-- dependants of a job that did not succeed are cancelled, the others count one dependency less).
CREATE TRIGGER IF NOT EXISTS jobs_flow_finished AFTER UPDATE OF state ON jobs
WHEN new.flow = 1
     AND new.state IN ('succeeded', 'partial', 'failed', 'cancelled')
     AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
BEGIN
    UPDATE jobs SET flow = 0 WHERE seq = new.seq;
    UPDATE batches
    SET succeeded = succeeded + (new.state IN ('succeeded', 'partial')),
        failed = failed + (new.state = 'failed'),
        cancelled = cancelled + (new.state = 'cancelled'),
        updated_at = new.updated_at
    WHERE id = new.batch_id;
    UPDATE jobs
    SET state = 'cancelled', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(cancelled_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Cancelled without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.state NOT IN ('succeeded', 'partial') AND state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0 AND success_only = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 0;
END;

-- A deleted job that had not finished resolves what waits for it as if it had been cancelled.
CREATE TRIGGER IF NOT EXISTS jobs_flow_deleted AFTER DELETE ON jobs
WHEN old.flow = 1 AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
BEGIN
    UPDATE batches SET cancelled = cancelled + 1, updated_at = old.updated_at WHERE id = old.batch_id;
    UPDATE jobs
    SET state = 'cancelled', completed_at = old.updated_at, updated_at = old.updated_at,
        expires_at = old.updated_at + COALESCE(cancelled_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Cancelled without running: ''' || old.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', old.updated_at) || char(10)
    WHERE state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0 AND success_only = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = old.updated_at
    WHERE state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0);
    DELETE FROM job_dependencies WHERE dependency = old.id AND on_batch = 0;
END;

-- A batch's last member finished: the batch finishes and its callbacks are resolved.
CREATE TRIGGER IF NOT EXISTS batches_finished AFTER UPDATE OF succeeded, failed, cancelled ON batches
WHEN new.finished_at IS NULL AND new.succeeded + new.failed + new.cancelled >= new.total
BEGIN
    UPDATE batches
    SET finished_at = new.updated_at,
        expires_at = new.updated_at + new.retention_us,
        state = CASE WHEN new.state <> 'running' THEN new.state
                     WHEN new.succeeded = new.total THEN 'succeeded' ELSE 'completed' END
    WHERE id = new.id;
    UPDATE jobs
    SET state = 'cancelled', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(cancelled_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Cancelled without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.succeeded < new.total AND state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 1;
END;

-- A waiting job's last dependency was resolved: it becomes pending at the back of its queue (or scheduled, when its
-- process-at is still ahead), with the next pending_seq.
CREATE TRIGGER IF NOT EXISTS jobs_flow_released AFTER UPDATE OF waiting_for ON jobs
WHEN new.state = 'waiting' AND new.waiting_for <= 0
BEGIN
    UPDATE counters SET value = value + 1
    WHERE name = 'pending_seq' AND NOT COALESCE(new.scheduled_at > new.updated_at, 0);
    UPDATE jobs
    SET state = CASE WHEN COALESCE(new.scheduled_at > new.updated_at, 0) THEN 'scheduled' ELSE 'pending' END,
        pending_seq = CASE WHEN COALESCE(new.scheduled_at > new.updated_at, 0) THEN NULL
                           ELSE (SELECT value FROM counters WHERE name = 'pending_seq') END,
        enqueued_at = CASE WHEN COALESCE(new.scheduled_at > new.updated_at, 0) THEN NULL ELSE new.updated_at END
    WHERE seq = new.seq;
    UPDATE counters SET value = value + 1
    WHERE name = 'flow_released' AND NOT COALESCE(new.scheduled_at > new.updated_at, 0);
END;
