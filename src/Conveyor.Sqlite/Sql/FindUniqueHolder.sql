-- FindUniqueHolder: the unfinished job of a tenant that holds a unique key whose unique-until has not passed.
-- Several unfinished jobs can share a key only when the older ones' unique-until passed, so at most one matches.
-- Parameters: @tenant, @unique_key, @now. Result: zero or one row (id, state, queue, created_at).
SELECT id, state, queue, created_at
FROM jobs INDEXED BY jobs_unique
WHERE tenant = @tenant AND unique_key = @unique_key AND unique_key IS NOT NULL
  AND state IN ('scheduled', 'pending', 'active', 'retrying', 'waiting')
  AND unique_until > @now
LIMIT 1;
