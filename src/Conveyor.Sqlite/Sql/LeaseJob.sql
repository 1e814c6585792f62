-- LeaseJob: leases one pending job chosen by PendingCandidates, as Dequeue leases each of its jobs.
-- Parameters: @seq, @now, @owner, @lease_expires_at.
-- Result: the leased job's row as Dequeue returns it; none if the job is no longer pending.
UPDATE jobs
SET state = 'active',
    attempts = attempts + 1,
    started_at = max(@now, coalesce(enqueued_at, @now)),
    updated_at = max(@now, coalesce(enqueued_at, @now)),
    lease_token = pending_seq,
    lease_owner = @owner,
    lease_expires_at = @lease_expires_at,
    cancel_requested = 0
WHERE seq = @seq AND state = 'pending'
RETURNING id, type, queue, tenant, attempts, max_retry, timeout_us, deadline, lease_token, trace_parent,
          created_at, enqueued_at, payload, batch_id;
