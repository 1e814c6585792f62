-- 0025_flow_released_after_dependencies: a waiting job released by the end of its last dependency is stamped released
-- (enqueued_at, updated_at) no earlier than the latest end of what it waited for: its jobs' completed_at, its batches'
-- finished_at. Every store call takes its time when it begins, and two processes on one file may begin two
-- acknowledgements in one order and write them in the other: the one that releases the job then has the earlier time,
-- and the job looked released (and, leased in the hand-off, started) before a dependency ended. Only the release
-- pays (this trigger fires on it alone): one lookup by id per dependency. The body is 0011's otherwise; whether the job
-- waits for its process-at is still decided on the releasing call's time.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 24 and sets user_version = 25 in the same
-- transaction.
DROP TRIGGER IF EXISTS jobs_flow_released;
CREATE TRIGGER jobs_flow_released AFTER UPDATE OF waiting_for ON jobs
WHEN new.state = 'waiting' AND new.waiting_for <= 0
BEGIN
    UPDATE counters SET value = value + 1
    WHERE name = 'pending_seq' AND NOT COALESCE(new.scheduled_at > new.updated_at, 0);
    UPDATE jobs
    SET state = CASE WHEN COALESCE(new.scheduled_at > new.updated_at, 0) THEN 'scheduled' ELSE 'pending' END,
        pending_seq = CASE WHEN COALESCE(new.scheduled_at > new.updated_at, 0) THEN NULL
                           ELSE (SELECT value FROM counters WHERE name = 'pending_seq') END,
        (enqueued_at, updated_at) = (
            SELECT CASE WHEN COALESCE(new.scheduled_at > new.updated_at, 0) THEN NULL ELSE r.at END, r.at
            FROM (SELECT max(new.updated_at, COALESCE(max(CASE WHEN json_extract(l.value, '$[2]') = 1 THEN b.finished_at
                                                               ELSE d.completed_at END), new.updated_at)) AS at
                  FROM json_each(new.depends_on) AS l
                  LEFT JOIN jobs d ON json_extract(l.value, '$[2]') = 0 AND d.id = json_extract(l.value, '$[0]')
                  LEFT JOIN batches b ON json_extract(l.value, '$[2]') = 1 AND b.id = json_extract(l.value, '$[0]')) AS r)
    WHERE seq = new.seq;
    UPDATE counters SET value = value + 1
    WHERE name = 'flow_released' AND NOT COALESCE(new.scheduled_at > new.updated_at, 0);
END;
