-- ListServers: the servers whose registration has not expired, ordered by id.
-- Parameters: @now. Result: rows (id, host, process_id, queues, concurrency, active_jobs, started_at,
--   last_heartbeat_at, expires_at).
SELECT id, host, process_id, queues, concurrency, active_jobs, started_at, last_heartbeat_at, expires_at
FROM servers
WHERE expires_at > @now
ORDER BY id;
