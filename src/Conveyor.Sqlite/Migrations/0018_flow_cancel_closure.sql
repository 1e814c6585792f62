-- 0018_flow_cancel_closure: a job that does not succeed cancels (or fails) every success-only dependant downstream of
-- it in one statement, instead of one nested trigger per level. Until now jobs_flow_resolved cancelled the job's direct
-- success-only dependants, whose own jobs_flow_resolved cancelled theirs, one trigger level deeper each time; SQLite
-- stops nested triggers at a depth of 1,000 (SQLITE_MAX_TRIGGER_DEPTH), so a chain of more than 999 waiting steps made
-- the acknowledgement of its first step's failure fail at every retry.
--
-- Now the trigger first writes the whole closure to flow_cascade: every waiting job reached from the finished job
-- through success-only links (a recursive query over jobs, each expanded once however many links reach it), each with
-- one link into it, the finished job's own else the one from the lowest id, and that link's policy (cancelled, or
-- failed when fail_if_unmet). Then one UPDATE ends them all, each saying which dependency did not succeed. Each ended
-- job's own triggers still run (its batch count, its links deleted, its other dependants counted down and released),
-- but what waits for it on a success-only link is already in flow_cascade: its closure is empty, and the depth stays
-- two whatever the length of the chain. Every statement of the trigger leaves the jobs in flow_cascade alone: one not
-- yet ended by the UPDATE must not be counted down (a count at 0 would release it to run, though what it waited for
-- did not succeed). A job of the closure that an earlier row's triggers end meanwhile (the callback of a batch whose
-- last member the closure holds) keeps that end: the batch resolved it first, as every store orders them. The rows
-- are deleted by the trigger that wrote them (flow_cascade.root, indexed), at its end, so the table is empty between
-- statements.
-- What this does not flatten: a cascade through batches (a batch's callback that is itself a member of a batch whose
-- callback ...) still nests about two trigger levels per batch, so some 500 batches deep is SQLite's limit.
-- jobs_flow_finished is made again after it, with the body of 0017, so that it still fires first (SQLite fires the
-- newest trigger first).
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 17 and sets user_version = 18 in the same
-- transaction.

CREATE TABLE IF NOT EXISTS flow_cascade (
    seq    INTEGER PRIMARY KEY,  -- jobs.seq of a waiting job the cascade ends
    root   INTEGER NOT NULL,     -- jobs.seq of the finished job whose trigger wrote the row
    parent TEXT    NOT NULL,     -- the dependency it is ended for, named in its error
    fail   INTEGER NOT NULL      -- 1: failed (the link's fail_if_unmet), 0: cancelled
);
CREATE INDEX IF NOT EXISTS flow_cascade_root ON flow_cascade (root);

DROP TRIGGER IF EXISTS jobs_flow_resolved;
CREATE TRIGGER jobs_flow_resolved AFTER UPDATE OF state ON jobs
WHEN new.flow = 1
     AND new.state IN ('succeeded', 'partial', 'failed', 'cancelled')
     AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
     AND EXISTS (SELECT 1 FROM job_dependencies WHERE dependency = new.id AND on_batch = 0)
BEGIN
    -- The closure is walked by job (each expanded once, whatever the number of links that reach it); then each job
    -- takes one link into it: the finished job's own, else the one from the lowest id (a bare column of min()). The
    -- links out of the closure that reach a waiting job not in flow_cascade are exactly the links into it.
    INSERT INTO flow_cascade (seq, root, parent, fail)
    SELECT seq, new.seq, parent, fail FROM (
        WITH RECURSIVE closure (seq, id) AS (
            SELECT j.seq, j.id
            FROM job_dependencies l CROSS JOIN jobs j ON j.seq = l.dependant_seq
            WHERE new.state NOT IN ('succeeded', 'partial')
              AND l.dependency = new.id AND l.on_batch = 0 AND l.success_only = 1 AND +j.state = 'waiting'
              AND NOT EXISTS (SELECT 1 FROM flow_cascade f WHERE f.seq = j.seq)
            UNION
            SELECT j.seq, j.id
            FROM closure c
            CROSS JOIN job_dependencies l ON l.dependency = c.id AND l.on_batch = 0 AND l.success_only = 1
            CROSS JOIN jobs j ON j.seq = l.dependant_seq
            WHERE +j.state = 'waiting' AND NOT EXISTS (SELECT 1 FROM flow_cascade f WHERE f.seq = j.seq)
        )
        SELECT l.dependant_seq AS seq, l.dependency AS parent, l.fail_if_unmet AS fail,
               min((l.dependency <> new.id) || l.dependency) AS first
        FROM (SELECT new.id AS id UNION ALL SELECT id FROM closure) d
        CROSS JOIN job_dependencies l ON l.dependency = d.id AND l.on_batch = 0 AND l.success_only = 1
        CROSS JOIN jobs j ON j.seq = l.dependant_seq
        WHERE new.state NOT IN ('succeeded', 'partial')
          AND +j.state = 'waiting' AND NOT EXISTS (SELECT 1 FROM flow_cascade f WHERE f.seq = j.seq)
        GROUP BY l.dependant_seq
    );
    -- SQLite picks the rows of an UPDATE before any trigger fires and does not test them again: a job of the closure
    -- that an earlier row's triggers ended meanwhile keeps what it became.
    UPDATE jobs
    SET state = CASE WHEN state <> 'waiting' THEN state
                     WHEN (SELECT fail FROM flow_cascade c WHERE c.seq = jobs.seq) = 1 THEN 'failed' ELSE 'cancelled' END,
        completed_at = CASE WHEN state <> 'waiting' THEN completed_at ELSE new.updated_at END,
        updated_at = CASE WHEN state <> 'waiting' THEN updated_at ELSE new.updated_at END,
        expires_at = CASE WHEN state <> 'waiting' THEN expires_at
                          WHEN (SELECT fail FROM flow_cascade c WHERE c.seq = jobs.seq) = 1
                          THEN new.updated_at + COALESCE(failed_retention_us, retention_us)
                          ELSE new.updated_at + COALESCE(cancelled_retention_us, retention_us) END,
        errors = CASE WHEN state <> 'waiting' THEN errors
                      ELSE errors || (SELECT json_object('attempt', jobs.attempts,
                          'message', CASE WHEN c.fail = 1 THEN 'Failed' ELSE 'Cancelled' END
                              || ' without running: ''' || c.parent || ''', which it waited for, did not succeed.',
                          'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at)
                          FROM flow_cascade c WHERE c.seq = jobs.seq) || char(10) END
    WHERE +state = 'waiting' AND seq IN (SELECT seq FROM flow_cascade WHERE root = new.seq);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0)
      AND NOT EXISTS (SELECT 1 FROM flow_cascade f WHERE f.seq = jobs.seq);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 0;
    DELETE FROM flow_cascade WHERE root = new.seq;
END;

-- The body of 0017, made again after jobs_flow_resolved so that it still fires first. A job with flow = 1 finishes:
-- counted once in its batch (the batch's last member finishes the batch through batches_finished).
DROP TRIGGER IF EXISTS jobs_flow_finished;
CREATE TRIGGER jobs_flow_finished AFTER UPDATE OF state ON jobs
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
END;
