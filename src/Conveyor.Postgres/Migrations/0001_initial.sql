-- Conveyor PostgreSQL store, migration 0001: the jobs table, its indexes, and the small coordination tables.
--
-- The store applies this file itself on start (under an advisory lock, in one transaction). To apply it
-- by hand instead, run it with psql, naming the schema (letters, digits and '_', lowercase):
--     psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0001_initial.sql
-- and start the store with ApplyMigrations = false. psql replaces :"schema" with the quoted schema name
-- and :'schema' with it as a string literal; the store does the same substitution.
--
-- No statement here uses the database's clock for job data: every job timestamp is written by the store
-- from its TimeProvider. Only schema_migrations.applied_at, an audit of when this DDL ran, defaults to now().

CREATE SCHEMA IF NOT EXISTS :"schema";

CREATE TABLE IF NOT EXISTS :"schema".schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per job, shaped after the Jobs API (seed 004) and extended with what leases, retries,
-- unique keys and retention need.
CREATE TABLE :"schema".jobs (
    -- Ids, tenants, types, queues and keys are ASCII names compared byte by byte ("C"): the listing's
    -- id order and the queue order are the same as in every other store, and comparisons are cheaper.
    id                text        COLLATE "C" NOT NULL PRIMARY KEY,
    -- Insertion order: breaks ties between jobs that became pending at the same instant (FIFO).
    seq               bigint      GENERATED ALWAYS AS IDENTITY,
    tenant            text        COLLATE "C" NOT NULL,
    type              text        COLLATE "C" NOT NULL,
    queue             text        COLLATE "C" NOT NULL,
    state             text        NOT NULL
        CONSTRAINT jobs_state_check CHECK (state IN (
            'scheduled', 'pending', 'active', 'retrying', 'succeeded', 'partial', 'failed', 'cancelled')),
    progress          integer     NOT NULL DEFAULT 0
        CONSTRAINT jobs_progress_check CHECK (progress BETWEEN 0 AND 100),
    -- Bytes as the client serialized them (JSON in practice); the store neither parses nor validates them.
    payload           bytea       NOT NULL,
    result            bytea,
    result_url        text,
    -- [{"attempt":1,"message":"...","exception_type":"...","item":null,"occurred_at":"..."}, ...]
    errors            jsonb       NOT NULL DEFAULT '[]'::jsonb,
    attempts          integer     NOT NULL DEFAULT 0,
    max_retry         integer     NOT NULL,
    timeout           interval,
    deadline          timestamptz,
    -- When the job is due: its process-at time, or the end of its retry backoff.
    scheduled_at      timestamptz,
    -- When the job last became pending (enqueue, promotion, recovery, release, requeue).
    enqueued_at       timestamptz,
    unique_key        text        COLLATE "C",
    unique_until      timestamptz,
    -- True while the job holds its unique key: from enqueue until it finishes or another enqueue finds
    -- the key's time to live passed. The partial unique index below enforces one holder per key.
    unique_held       boolean     NOT NULL DEFAULT false,
    retention         interval    NOT NULL,
    -- completed_at + retention; the purge deletes finished jobs past it.
    expires_at        timestamptz,
    trace_parent      text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    started_at        timestamptz,
    completed_at      timestamptz,
    lease_token       bigint,
    lease_owner       text,
    lease_expires_at  timestamptz,
    cancel_requested  boolean     NOT NULL DEFAULT false
);

-- The hot path: pending jobs of one queue in the order they became pending. Partial, so the index holds
-- only waiting jobs and a dequeue costs the same however many finished jobs the table keeps.
CREATE INDEX jobs_pending_idx ON :"schema".jobs (queue, enqueued_at, seq) WHERE state = 'pending';

-- Promotion: scheduled and retrying jobs by due time.
CREATE INDEX jobs_due_idx ON :"schema".jobs (scheduled_at, seq) WHERE state IN ('scheduled', 'retrying');

-- Recovery: active jobs by lease expiry.
CREATE INDEX jobs_lease_idx ON :"schema".jobs (lease_expires_at) WHERE state = 'active';

-- Retention: finished jobs by the end of their retention.
CREATE INDEX jobs_expiry_idx ON :"schema".jobs (expires_at)
    WHERE state IN ('succeeded', 'partial', 'failed', 'cancelled');

-- The Jobs API's listing: one tenant's jobs, newest first, by keyset (created_at, id).
CREATE INDEX jobs_tenant_created_idx ON :"schema".jobs (tenant, created_at DESC, id DESC);

-- At most one live holder of a unique key per tenant.
CREATE UNIQUE INDEX jobs_unique_key_idx ON :"schema".jobs (tenant, unique_key) WHERE unique_held;

-- Each dequeue gives every job it leases a new token from this sequence.
CREATE SEQUENCE :"schema".lease_tokens AS bigint;

-- Paused queues (a queue with no row is running).
CREATE TABLE :"schema".queues (
    name        text        COLLATE "C" PRIMARY KEY,
    paused      boolean     NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Named locks with a time to live (the cron leader).
CREATE TABLE :"schema".locks (
    name        text        COLLATE "C" PRIMARY KEY,
    owner       text        NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- Idempotency records with a time to live.
CREATE TABLE :"schema".idempotency_keys (
    key         text        COLLATE "C" PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);

CREATE INDEX idempotency_keys_expiry_idx ON :"schema".idempotency_keys (expires_at);

-- Worker servers, registered and refreshed by their heartbeat.
CREATE TABLE :"schema".servers (
    id                 text        COLLATE "C" PRIMARY KEY,
    host               text        NOT NULL,
    process_id         integer     NOT NULL,
    queues             jsonb       NOT NULL,
    concurrency        integer     NOT NULL,
    active_jobs        integer     NOT NULL,
    started_at         timestamptz NOT NULL,
    last_heartbeat_at  timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL
);

-- Leases up to p_limit pending jobs in two passes (see DequeueRequest): first up to each queue's quota,
-- in the order given, then the remaining slots from the same queues in the same order. Paused queues are
-- skipped. Each job taken becomes active under a new lease token. One call is one round trip; each inner
-- statement walks jobs_pending_idx for one queue with SKIP LOCKED, so concurrent dequeues never wait on
-- each other and never take the same job.
--
-- The body names its tables with the schema rather than through a SET search_path clause, which would cost
-- more than the dequeue itself on every call. psql does not substitute variables inside a dollar-quoted
-- body, so the schema reaches it through a setting and format(): %1$I is the quoted schema.
SELECT set_config('conveyor.migration_schema', :'schema', false);

DO $do$
BEGIN
EXECUTE format($function$
CREATE FUNCTION %1$I.dequeue(
    p_queues           text[],
    p_quotas           integer[],
    p_limit            integer,
    p_owner            text,
    p_now              timestamptz,
    p_lease_expires_at timestamptz)
RETURNS SETOF %1$I.jobs
LANGUAGE plpgsql
AS $body$
DECLARE
    v_paused text[];
    v_taken  integer := 0;
    v_want   integer;
    v_count  integer;
BEGIN
    SELECT coalesce(array_agg(q.name), '{}') INTO v_paused FROM %1$I.queues q WHERE q.paused;
    FOR v_pass IN 1..2 LOOP
        FOR v_i IN 1..coalesce(array_length(p_queues, 1), 0) LOOP
            v_want := p_limit - v_taken;
            IF v_pass = 1 THEN
                v_want := least(v_want, p_quotas[v_i]);
            END IF;
            CONTINUE WHEN v_want <= 0 OR p_queues[v_i] = ANY (v_paused);

            RETURN QUERY
            WITH picked AS (
                SELECT j.id
                FROM %1$I.jobs j
                WHERE j.state = 'pending' AND j.queue = p_queues[v_i]
                ORDER BY j.enqueued_at, j.seq
                LIMIT v_want
                FOR UPDATE SKIP LOCKED
            ), leased AS (
                UPDATE %1$I.jobs j
                SET state = 'active',
                    attempts = j.attempts + 1,
                    started_at = p_now,
                    updated_at = p_now,
                    lease_token = nextval('%1$I.lease_tokens'),
                    lease_owner = p_owner,
                    lease_expires_at = p_lease_expires_at,
                    cancel_requested = false
                FROM picked
                WHERE j.id = picked.id
                RETURNING j.*
            )
            SELECT * FROM leased ORDER BY leased.enqueued_at, leased.seq;

            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_taken := v_taken + v_count;
        END LOOP;
        EXIT WHEN v_taken >= p_limit;
    END LOOP;
END
$body$
$function$, current_setting('conveyor.migration_schema'));
END
$do$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (1, '0001_initial') ON CONFLICT (version) DO NOTHING;
