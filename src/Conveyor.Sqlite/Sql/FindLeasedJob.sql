-- FindLeasedJob: whether a job is active under the lease token, read inside the write transaction of a wait for a
-- signal (SqliteJobStore.JobSignals.cs).
-- Parameters: @id, @lease_token. Result: zero or one row (cancel_requested, attempts).
SELECT cancel_requested, attempts FROM jobs WHERE id = @id AND state = 'active' AND lease_token = @lease_token;
