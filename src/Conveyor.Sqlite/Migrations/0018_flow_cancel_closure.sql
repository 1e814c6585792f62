-- 0018_flow_cancel_closure: a job that does not succeed cancels (or fails) every success-only dependant downstream of
-- it in one statement, instead of one nested trigger per level. Until now jobs_flow_resolved cancelled the job's direct
-- success-only dependants, whose own jobs_flow_resolved cancelled theirs, one trigger level deeper each time; SQLite
-- stops nested triggers at a depth of 1,000 (SQLITE_MAX_TRIGGER_DEPTH), so a chain of more than 999 waiting steps made
-- the acknowledgement of its first step's failure fail at every retry.
--
-- Now the trigger first writes the whole closure to flow_cascade: every waiting job reached from the finished job
-- through success-only links (a recursive query, level by level), each with the dependency it was reached from and that
-- link's policy (cancelled, or failed when fail_if_unmet), the first link found for a job reached more than once. Then
-- one UPDATE ends them all, each saying which dependency did not succeed. Each ended job's own triggers still run (its
-- batch count, its links deleted, its other dependants counted down and released), but what waits for it on a
-- success-only link is already in flow_cascade: its closure is empty, and the depth stays two whatever the length of
-- the chain. Every statement of the trigger leaves the jobs in flow_cascade alone: one not yet ended by the UPDATE must
-- not be counted down (a count at 0 would release it to run, though what it waited for did not succeed). The rows are
-- deleted by the trigger that wrote them (flow_cascade.root), at its end, so the table is empty between statements.
-- A job reached at once through a success-only link and through a batch (its callback) is ended by whichever comes
-- first, as before.
-- jobs_flow_finished is made again after it, with the body of 0017, so that it still fires first (SQLite fires the
-- newest trigger first).
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 17 and sets user_version = 18 in the same
-- transaction.

CREATE TABLE IF NOT EXISTS flow_cascade (
    seq    INTEGER PRIMARY KEY,  -- jobs.seq of a waiting job the cascade ends
    root   INTEGER NOT NULL,     -- jobs.seq of the finished job whose trigger wrote the row
    parent TEXT    NOT NULL,     -- the dependency it was reached from, named in its error
    fail   INTEGER NOT NULL      -- 1: failed (the link's fail_if_unmet), 0: cancelled
);

DROP TRIGGER IF EXISTS jobs_flow_resolved;
CREATE TRIGGER jobs_flow_resolved AFTER UPDATE OF state ON jobs
WHEN new.flow = 1
     AND new.state IN ('succeeded', 'partial', 'failed', 'cancelled')
     AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
     AND EXISTS (SELECT 1 FROM job_dependencies WHERE dependency = new.id AND on_batch = 0)
BEGIN
    INSERT OR IGNORE INTO flow_cascade (seq, root, parent, fail)
    SELECT seq, new.seq, parent, fail FROM (
        WITH RECURSIVE closure (seq, id, parent, fail) AS (
            SELECT j.seq, j.id, new.id, l.fail_if_unmet
            FROM job_dependencies l JOIN jobs j ON j.seq = l.dependant_seq
            WHERE new.state NOT IN ('succeeded', 'partial')
              AND l.dependency = new.id AND l.on_batch = 0 AND l.success_only = 1 AND +j.state = 'waiting'
              AND j.seq NOT IN (SELECT seq FROM flow_cascade)
            UNION
            SELECT j.seq, j.id, c.id, l.fail_if_unmet
            FROM closure c
            JOIN job_dependencies l ON l.dependency = c.id AND l.on_batch = 0 AND l.success_only = 1
            JOIN jobs j ON j.seq = l.dependant_seq
            WHERE +j.state = 'waiting' AND j.seq NOT IN (SELECT seq FROM flow_cascade)
        )
        SELECT seq, parent, fail FROM closure
    );
    UPDATE jobs
    SET state = CASE WHEN (SELECT fail FROM flow_cascade c WHERE c.seq = jobs.seq) = 1 THEN 'failed' ELSE 'cancelled' END,
        completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + CASE WHEN (SELECT fail FROM flow_cascade c WHERE c.seq = jobs.seq) = 1
                                           THEN COALESCE(failed_retention_us, retention_us)
                                           ELSE COALESCE(cancelled_retention_us, retention_us) END,
        errors = errors || (SELECT json_object('attempt', jobs.attempts,
            'message', CASE WHEN c.fail = 1 THEN 'Failed' ELSE 'Cancelled' END
                || ' without running: ''' || c.parent || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) FROM flow_cascade c WHERE c.seq = jobs.seq) || char(10)
    WHERE +state = 'waiting' AND seq IN (SELECT seq FROM flow_cascade WHERE root = new.seq);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0)
      AND seq NOT IN (SELECT seq FROM flow_cascade);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 0;
    DELETE FROM flow_cascade WHERE root = new.seq;
END;

-- The body of 0017, made again after jobs_flow_resolved so that it fires first. A job with flow = 1 finishes: counted
-- once in its batch (the batch's last member finishes the batch through batches_finished).
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
