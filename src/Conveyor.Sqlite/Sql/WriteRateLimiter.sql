-- WriteRateLimiter: sets a rate limiter's theoretical arrival time (unix µs), after a grant.
-- Parameters: @key, @tat. Result: none.
INSERT INTO rate_limiters (key, tat) VALUES (@key, @tat)
ON CONFLICT (key) DO UPDATE SET tat = excluded.tat;
