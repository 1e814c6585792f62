-- HeartbeatServer: registers or refreshes a server.
-- Parameters: @id, @host, @process_id, @queues (JSON object), @concurrency, @active_jobs, @started_at,
--   @last_heartbeat_at, @expires_at. Result: none.
INSERT INTO servers (id, host, process_id, queues, concurrency, active_jobs, started_at, last_heartbeat_at, expires_at)
VALUES (@id, @host, @process_id, @queues, @concurrency, @active_jobs, @started_at, @last_heartbeat_at, @expires_at)
ON CONFLICT (id) DO UPDATE SET
    host = excluded.host, process_id = excluded.process_id, queues = excluded.queues,
    concurrency = excluded.concurrency, active_jobs = excluded.active_jobs, started_at = excluded.started_at,
    last_heartbeat_at = excluded.last_heartbeat_at, expires_at = excluded.expires_at;
