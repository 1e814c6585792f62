-- PurgeCoordination: deletes expired idempotency records, locks and server registrations.
-- Parameters: @now. Result: none.
DELETE FROM idempotency_records WHERE expires_at <= @now;
DELETE FROM locks WHERE expires_at <= @now;
DELETE FROM servers WHERE expires_at <= @now;
