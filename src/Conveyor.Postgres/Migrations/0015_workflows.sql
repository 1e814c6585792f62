-- Conveyor PostgreSQL store, migration 0015: continuations and batches. A job may wait (state 'waiting', which no
-- dequeue reads) for jobs and batches; whatever statement finishes a job (an acknowledgement, a cancel, a recovery, a
-- bulk action, a delete) resolves what waits for it in the same transaction, through the row trigger below, which
-- fires only for jobs with flow = true (something waits for them, or they belong to a batch): plain jobs pay the
-- trigger's WHEN test and nothing else.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0015_workflows.sql
--
-- Why nothing is released twice or lost: a waiting job's counter of unfinished dependencies is decremented by an
-- UPDATE of its row, so two transactions that finish its last two dependencies at once are serialised on that row and
-- only the second sees 0 (READ COMMITTED re-reads the row after the first commits). A batch's counts are one row,
-- updated the same way; the transaction whose update makes the counts reach the total finishes the batch. An enqueue
-- that links a job to a dependency locks the dependency's row (FOR UPDATE) first, so it either sees it finished and
-- resolves the link at once, or marks it (flow = true) before any statement can finish it.
--
-- The functions name their tables without the schema and run with search_path set to it: psql does not substitute
-- :"schema" inside a function's $$ body. Wake-ups go to the channel '<schema>_jobs' with the queue as payload, as an
-- enqueue's do.

ALTER TABLE :"schema".jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE :"schema".jobs ADD CONSTRAINT jobs_state_check CHECK (state IN (
    'scheduled', 'pending', 'active', 'retrying', 'succeeded', 'partial', 'failed', 'cancelled', 'waiting')) NOT VALID;
ALTER TABLE :"schema".jobs VALIDATE CONSTRAINT jobs_state_check;

ALTER TABLE :"schema".jobs
    ADD COLUMN IF NOT EXISTS flow boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS waiting_for integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS batch_id text COLLATE "C",
    ADD COLUMN IF NOT EXISTS depends_on jsonb;

CREATE INDEX IF NOT EXISTS jobs_batch_idx ON :"schema".jobs (batch_id) WHERE batch_id IS NOT NULL;

-- One row per unresolved (dependency, dependant) pair, deleted when the dependency finishes.
CREATE TABLE IF NOT EXISTS :"schema".job_dependencies (
    dependency   text    COLLATE "C" NOT NULL,
    on_batch     boolean NOT NULL,
    dependant    text    COLLATE "C" NOT NULL,
    success_only boolean NOT NULL,
    PRIMARY KEY (dependency, on_batch, dependant)
);

CREATE TABLE IF NOT EXISTS :"schema".batches (
    id          text        COLLATE "C" PRIMARY KEY,
    tenant      text        COLLATE "C" NOT NULL,
    state       text        NOT NULL CHECK (state IN ('running', 'succeeded', 'completed', 'cancelled')),
    total       integer     NOT NULL DEFAULT 0,
    succeeded   integer     NOT NULL DEFAULT 0,
    failed      integer     NOT NULL DEFAULT 0,
    cancelled   integer     NOT NULL DEFAULT 0,
    retention   interval    NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    finished_at timestamptz,
    expires_at  timestamptz
);
CREATE INDEX IF NOT EXISTS batches_expiry_idx ON :"schema".batches (expires_at) WHERE expires_at IS NOT NULL;

-- Resolves the links of a finished job or batch: success-only dependants of something that did not succeed are
-- cancelled (their own dependants follow through the trigger), the others count one dependency less and are released
-- (pending, or scheduled while their process-at is ahead) at 0.
CREATE OR REPLACE FUNCTION :"schema".flow_resolve(p_dependency text, p_on_batch boolean, p_succeeded boolean, p_now timestamptz)
RETURNS void LANGUAGE plpgsql SET search_path = :"schema" AS $$
DECLARE
    r record;
    v record;
BEGIN
    FOR r IN
        DELETE FROM job_dependencies WHERE dependency = p_dependency AND on_batch = p_on_batch
        RETURNING dependant, success_only
    LOOP
        IF r.success_only AND NOT p_succeeded THEN
            UPDATE jobs SET state = 'cancelled', completed_at = p_now, updated_at = p_now, unique_held = false,
                expires_at = p_now + coalesce(cancelled_retention, retention),
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', attempts,
                    'message', 'Cancelled without running: ''' || p_dependency || ''', which it waited for, did not succeed.',
                    'exception_type', NULL, 'item', NULL,
                    'occurred_at', to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
            WHERE id = r.dependant AND state = 'waiting';
        ELSE
            UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = p_now
            WHERE id = r.dependant AND state = 'waiting'
            RETURNING waiting_for, queue, scheduled_at INTO v;
            IF FOUND AND v.waiting_for <= 0 THEN
                IF v.scheduled_at IS NOT NULL AND v.scheduled_at > p_now THEN
                    UPDATE jobs SET state = 'scheduled' WHERE id = r.dependant;
                ELSE
                    UPDATE jobs SET state = 'pending', enqueued_at = p_now WHERE id = r.dependant;
                    PERFORM pg_notify(current_schema() || '_jobs', v.queue);
                END IF;
            END IF;
        END IF;
    END LOOP;
END
$$;

-- Counts a finished job in its batch (finishing the batch with its last job) and resolves what waits for it.
CREATE OR REPLACE FUNCTION :"schema".flow_finished(p_id text, p_batch text, p_state text, p_now timestamptz)
RETURNS void LANGUAGE plpgsql SET search_path = :"schema" AS $$
DECLARE
    b record;
BEGIN
    IF p_batch IS NOT NULL THEN
        UPDATE batches SET
            succeeded = succeeded + (p_state IN ('succeeded', 'partial'))::int,
            failed = failed + (p_state = 'failed')::int,
            cancelled = cancelled + (p_state = 'cancelled')::int,
            updated_at = p_now
        WHERE id = p_batch
        RETURNING * INTO b;
        IF FOUND AND b.finished_at IS NULL AND b.succeeded + b.failed + b.cancelled >= b.total THEN
            UPDATE batches SET finished_at = p_now, expires_at = p_now + retention,
                state = CASE WHEN state <> 'running' THEN state WHEN b.succeeded = b.total THEN 'succeeded' ELSE 'completed' END
            WHERE id = p_batch;
            PERFORM flow_resolve(p_batch, true, b.succeeded = b.total, p_now);
        END IF;
    END IF;
    PERFORM flow_resolve(p_id, false, p_state IN ('succeeded', 'partial'), p_now);
END
$$;

CREATE OR REPLACE FUNCTION :"schema".jobs_flow_finished() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    -- Counted once: a manual retry of a finished job does not count it again.
    UPDATE jobs SET flow = false WHERE id = NEW.id;
    PERFORM flow_finished(NEW.id, NEW.batch_id, NEW.state, NEW.updated_at);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION :"schema".jobs_flow_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    -- A job deleted before it finished will never finish: what waits for it is resolved as if it had been cancelled.
    PERFORM flow_finished(OLD.id, OLD.batch_id, 'cancelled', OLD.updated_at);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS jobs_flow_finished ON :"schema".jobs;
CREATE TRIGGER jobs_flow_finished AFTER UPDATE OF state ON :"schema".jobs
FOR EACH ROW
WHEN (NEW.flow AND NEW.state IN ('succeeded', 'partial', 'failed', 'cancelled')
      AND OLD.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled'))
EXECUTE FUNCTION :"schema".jobs_flow_finished();

DROP TRIGGER IF EXISTS jobs_flow_deleted ON :"schema".jobs;
CREATE TRIGGER jobs_flow_deleted AFTER DELETE ON :"schema".jobs
FOR EACH ROW
WHEN (OLD.flow AND OLD.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled'))
EXECUTE FUNCTION :"schema".jobs_flow_deleted();

-- Links jobs an enqueue has just inserted (waiting when they have dependencies) to what they wait for, inside the
-- enqueue's transaction. p_depends[i] is [[id, success_only, on_batch], …] or NULL; p_batches[i] the job's batch or
-- NULL. Returns one row per job: its position, its state after linking, and the dependency or batch that does not
-- exist in its tenant (the job is then deleted again and nothing of it remains).
CREATE OR REPLACE FUNCTION :"schema".flow_link(p_ids text[], p_depends jsonb[], p_batches text[], p_now timestamptz)
RETURNS TABLE (ord integer, state text, missing text) LANGUAGE plpgsql SET search_path = :"schema" AS $$
#variable_conflict use_column
DECLARE
    v_tenant text;
    v_missing text;
    v_failed text;
    v_unfinished integer;
    v_found boolean;
    v_finished boolean;
    v_succeeded boolean;
    v_state text;
    v_scheduled timestamptz;
    v_queue text;
    d jsonb;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
        SELECT j.tenant, j.queue, j.scheduled_at INTO v_tenant, v_queue, v_scheduled FROM jobs j WHERE j.id = p_ids[i];
        v_missing := NULL;
        v_failed := NULL;
        v_unfinished := 0;
        IF p_batches[i] IS NOT NULL THEN
            PERFORM 1 FROM batches b WHERE b.id = p_batches[i] AND b.tenant = v_tenant FOR UPDATE;
            IF NOT FOUND THEN
                v_missing := p_batches[i];
            END IF;
        END IF;
        IF v_missing IS NULL AND p_depends[i] IS NOT NULL THEN
            FOR d IN SELECT e FROM jsonb_array_elements(p_depends[i]) AS e LOOP
                IF (d ->> 2)::int = 1 THEN
                    SELECT true, b.finished_at IS NOT NULL, b.succeeded = b.total INTO v_found, v_finished, v_succeeded
                    FROM batches b WHERE b.id = d ->> 0 AND b.tenant = v_tenant FOR UPDATE;
                ELSE
                    SELECT true, j.state IN ('succeeded', 'partial', 'failed', 'cancelled'), j.state IN ('succeeded', 'partial')
                    INTO v_found, v_finished, v_succeeded
                    FROM jobs j WHERE j.id = d ->> 0 AND j.tenant = v_tenant FOR UPDATE;
                END IF;
                IF NOT FOUND THEN
                    v_missing := d ->> 0;
                    EXIT;
                END IF;
                IF NOT v_finished THEN
                    INSERT INTO job_dependencies (dependency, on_batch, dependant, success_only)
                    VALUES (d ->> 0, (d ->> 2)::int = 1, p_ids[i], (d ->> 1)::int = 1)
                    ON CONFLICT DO NOTHING;
                    IF (d ->> 2)::int = 0 THEN
                        UPDATE jobs SET flow = true WHERE id = d ->> 0 AND NOT flow;
                    END IF;
                    v_unfinished := v_unfinished + 1;
                ELSIF (d ->> 1)::int = 1 AND NOT v_succeeded AND v_failed IS NULL THEN
                    v_failed := d ->> 0;
                END IF;
            END LOOP;
        END IF;

        IF v_missing IS NOT NULL THEN
            DELETE FROM job_dependencies WHERE dependant = p_ids[i];
            DELETE FROM jobs WHERE id = p_ids[i];
            ord := i; state := NULL; missing := v_missing;
            RETURN NEXT;
            CONTINUE;
        END IF;

        UPDATE jobs SET batch_id = p_batches[i], depends_on = p_depends[i], flow = p_batches[i] IS NOT NULL,
            waiting_for = v_unfinished
        WHERE id = p_ids[i]
        RETURNING jobs.state INTO v_state;
        IF p_batches[i] IS NOT NULL THEN
            UPDATE batches SET total = total + 1, updated_at = p_now WHERE id = p_batches[i];
        END IF;
        IF v_failed IS NOT NULL THEN
            DELETE FROM job_dependencies WHERE dependant = p_ids[i];
            UPDATE jobs SET state = 'cancelled', completed_at = p_now, updated_at = p_now, unique_held = false,
                expires_at = p_now + coalesce(cancelled_retention, retention),
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', 0,
                    'message', 'Cancelled without running: ''' || v_failed || ''', which it waited for, did not succeed.',
                    'exception_type', NULL, 'item', NULL,
                    'occurred_at', to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
            WHERE id = p_ids[i];
            v_state := 'cancelled';
        ELSIF v_state = 'waiting' AND v_unfinished = 0 THEN
            IF v_scheduled IS NOT NULL AND v_scheduled > p_now THEN
                UPDATE jobs SET state = 'scheduled' WHERE id = p_ids[i];
                v_state := 'scheduled';
            ELSE
                UPDATE jobs SET state = 'pending', enqueued_at = p_now WHERE id = p_ids[i];
                PERFORM pg_notify(current_schema() || '_jobs', v_queue);
                v_state := 'pending';
            END IF;
        END IF;
        ord := i; state := v_state; missing := NULL;
        RETURN NEXT;
    END LOOP;
END
$$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (15, '0015_workflows') ON CONFLICT (version) DO NOTHING;
