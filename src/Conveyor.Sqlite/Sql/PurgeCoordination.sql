-- PurgeCoordination: deletes expired idempotency records, locks, server registrations, and rate limiters whose
-- theoretical arrival time has passed (they hold nothing), and batches whose retention after their last job passed.
-- Parameters: @now. Result: none.
DELETE FROM idempotency_records WHERE expires_at <= @now;
DELETE FROM locks WHERE expires_at <= @now;
DELETE FROM servers WHERE expires_at <= @now;
DELETE FROM rate_limiters WHERE tat <= @now;
DELETE FROM batches WHERE expires_at <= @now;
