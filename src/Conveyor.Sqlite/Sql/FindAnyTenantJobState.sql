-- FindAnyTenantJobState: the state of one job of any tenant, read inside the write transaction of an operator's
-- bulk command (ids are global).
-- Parameters: @id. Result: zero or one row (seq, state).
SELECT seq, state FROM jobs WHERE id = @id;
