-- ExtendLease: moves one lease's expiry if the job is still active under the token.
-- Parameters: @id, @lease_token, @lease_expires_at.
-- Result: one row (cancel_requested) if extended; no row if the lease was lost.
UPDATE jobs
SET lease_expires_at = @lease_expires_at
WHERE id = @id AND state = 'active' AND lease_token = @lease_token
RETURNING cancel_requested;
