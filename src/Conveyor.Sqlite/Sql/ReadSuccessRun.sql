-- ReadSuccessRun: the jobs a run of plain successes ends, before it ends them: each still active under its lease
-- token, in the order one UPDATE … FROM over the run (AckSucceededMany.sql) ends them and fires their triggers (the
-- jobs' rowid, seq: SQLite collects the rows of such an UPDATE by rowid before it writes them), with the way its end
-- is written: 0, no workflow step (flow = 0: no trigger fires, the order does not matter); 1, a batch member that
-- AckSucceededMembers.sql ends (the conditions of its WHERE); 2, through the workflow triggers. A job named twice comes
-- once per naming; the store keeps the first.
-- Parameters: @acks (a JSON array of [job id, lease token] pairs).
-- Result: one row (position in @acks, way) per acknowledgement that applies, by seq then position.
SELECT ack.position,
       CASE WHEN jobs.flow = 0 THEN 0
            WHEN jobs.batch_id IS NOT NULL AND jobs.batch_counted = 0
                 AND NOT EXISTS (SELECT 1 FROM job_dependencies l WHERE l.dependency = jobs.id AND l.on_batch = 0) THEN 1
            ELSE 2 END
FROM (SELECT key AS position, value ->> 0 AS id, value ->> 1 AS lease_token FROM json_each(@acks)) AS ack
JOIN jobs ON jobs.id = ack.id AND +jobs.state = 'active' AND jobs.lease_token = ack.lease_token
ORDER BY jobs.seq, ack.position;
