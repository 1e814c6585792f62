-- Applies one outbox entry on the slot it concerns (a Redis Cluster; flow.lib.lua's flow_apply): a dependency's
-- outcome on its dependant's slot, or a member's finish on its batch's slot. Idempotent: the delivery that runs it
-- removes the entry from its outbox afterwards, and a delivery that dies in between (or two deliveries of the same
-- entry) runs it again, which changes nothing.
-- KEYS[1] a key of that slot (the dependant's or the batch's hash)  ARGV[1] the store's key prefix  ARGV[2] now
-- ARGV[3] the entry
-- Returns 1 when it changed something, 0 when it had been applied already (or its dependant no longer waits).
flow.prefix = ARGV[1]
return flow_apply(ARGV[3], ARGV[2])
