-- Replaces a key's value only if it still holds the expected one ('' for: does not exist).
-- KEYS[1] the key.  ARGV[1] the expected value.  ARGV[2] the new value.
-- Returns 1 if replaced, 0 otherwise.
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
