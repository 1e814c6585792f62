-- FindJobState: the state of one job of one tenant, read inside the write transaction of a command
-- (cancel, requeue, delete, signal) to tell "not found" from "not allowed".
-- Parameters: @tenant, @id. Result: zero or one row (seq, state, deadline µs or NULL, snooze reason or NULL: a signal
-- resumes a scheduled job only while the reason says it waits for that signal).
SELECT seq, state, deadline, snooze_reason FROM jobs WHERE id = @id AND tenant = @tenant;
