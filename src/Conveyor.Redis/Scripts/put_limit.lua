-- Writes a limit definition, unless a configured one (source 0) would replace one set through the API (source 1).
-- KEYS[1] limit definitions hash (under the coordination tag): field kind\nname → source digit followed by the JSON.
-- ARGV[1] field  ARGV[2] value (source digit .. JSON)  ARGV[3] source of the new value
-- Returns 0 created, 1 replaced, 2 kept the API limit (nothing written).
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and ARGV[3] == '0' and string.sub(current, 1, 1) == '1' then return 2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if current then return 1 end
return 0
