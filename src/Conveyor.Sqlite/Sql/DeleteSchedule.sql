-- DeleteSchedule: removes one schedule of a tenant (its jobs stay).
-- Parameters: @tenant, @name. Result: rows changed (1 if there was one).
DELETE FROM schedules WHERE tenant = @tenant AND name = @name;
