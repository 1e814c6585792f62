-- AckSucceededMany: the common end of a batch of attempts in one statement: success with no result, no
-- result URL and no errors, for every job of @acks that is still active under its lease token. Progress
-- becomes 100 and retention starts; the unique key is released because only unfinished jobs hold one.
-- Each job is found by its id, one per acknowledgement: the unary + keeps the planner off jobs_state_created (0008),
-- which it otherwise prefers for state = 'active' and then reads the whole @acks array once per active job.
-- Parameters: @acks (a JSON array of [job id, lease token] pairs), @now.
-- Result: the number of rows changed (the acknowledgements that applied).
UPDATE jobs
SET state = 'succeeded',
    progress = 100,
    result = NULL,
    result_url = NULL,
    updated_at = @now,
    completed_at = @now,
    expires_at = @now + retention_us,
    cancel_requested = 0,
    snooze_reason = NULL
FROM (SELECT value ->> 0 AS id, value ->> 1 AS lease_token FROM json_each(@acks)) AS ack
WHERE jobs.id = ack.id AND +jobs.state = 'active' AND jobs.lease_token = ack.lease_token;
