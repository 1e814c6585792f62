-- FindJobById: the job that holds an id, in any tenant (ids are global), to answer a duplicate enqueue.
-- Parameters: @id. Result: zero or one row (id, state, queue, created_at).
SELECT id, state, queue, created_at FROM jobs WHERE id = @id;
