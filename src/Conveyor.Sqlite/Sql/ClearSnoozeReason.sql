-- ClearSnoozeReason: removes the reason a job was snoozed for, when what it waited for came (a signal that resumed it).
-- Parameters: @tenant, @id. Result: 1 row changed if the job exists.
UPDATE jobs SET snooze_reason = NULL WHERE id = @id AND tenant = @tenant;
