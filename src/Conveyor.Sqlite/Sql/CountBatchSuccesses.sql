-- CountBatchSuccesses: counts @count members of batch @id that AckSucceededMembers.sql ended, as jobs_flow_finished
-- counts one: the batch's updated_at is kept at the latest of the times it was given (0026), and batches_finished
-- finishes the batch, and releases its callbacks, when this count reaches its total.
-- Parameters: @id, @count, @now. Result: the number of rows changed (1, or 0 for a batch no longer stored).
UPDATE batches
SET succeeded = succeeded + @count,
    updated_at = max(updated_at, @now)
WHERE id = @id;
