-- 0005_queue_counts: the number of jobs per queue and state, kept by triggers on every insert, state change and
-- delete of a job, so that the queue statistics (the store gauges, GET /queues) read one row per queue and state
-- instead of counting the jobs table. SQLite has one writer at a time: the triggers add no contention.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 4 and sets user_version = 5 in the
-- same transaction.
CREATE TABLE IF NOT EXISTS queue_counts (
    queue TEXT    NOT NULL,
    state TEXT    NOT NULL,
    jobs  INTEGER NOT NULL,
    PRIMARY KEY (queue, state)
) WITHOUT ROWID;

INSERT INTO queue_counts (queue, state, jobs)
SELECT queue, state, count(*) FROM jobs GROUP BY queue, state;

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
