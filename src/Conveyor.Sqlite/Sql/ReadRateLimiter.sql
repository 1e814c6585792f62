-- ReadRateLimiter: a rate limiter's theoretical arrival time (unix µs), if it has one.
-- Parameters: @key. Result: tat.
SELECT tat FROM rate_limiters WHERE key = @key;
