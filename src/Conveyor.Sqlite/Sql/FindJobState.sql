-- FindJobState: the state of one job of one tenant, read inside the write transaction of a command
-- (cancel, requeue, delete) to tell "not found" from "not allowed".
-- Parameters: @tenant, @id. Result: zero or one row (seq, state).
SELECT seq, state FROM jobs WHERE id = @id AND tenant = @tenant;
