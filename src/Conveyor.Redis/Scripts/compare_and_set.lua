-- Replaces a key's value only if it still holds the expected one ('' for: does not exist). The new value keeps no
-- expiry of the old one, unless ARGV[3] gives it one.
-- KEYS[1] the key.  ARGV[1] the expected value.  ARGV[2] the new value.  ARGV[3] (optional) the new value's expiry (ms).
-- Returns 1 if replaced, -1 if the key does not exist and a value was expected, 0 otherwise.
local current = redis.call('GET', KEYS[1])
if not current and ARGV[1] ~= '' then return -1 end
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
