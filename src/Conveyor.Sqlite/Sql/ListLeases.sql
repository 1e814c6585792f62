-- ListLeases: the leases one server holds: its active jobs and their lease tokens. Walks the partial index jobs_lease,
-- which holds only the active jobs, so its cost is that of the jobs running, not of the table.
-- Parameters: @owner. Result: rows (id, lease_token).
SELECT id, lease_token FROM jobs INDEXED BY jobs_lease
WHERE state = 'active' AND lease_owner = @owner;
