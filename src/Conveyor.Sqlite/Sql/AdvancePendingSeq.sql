-- AdvancePendingSeq: records the last pending_seq handed out by the current write transaction.
-- Parameters: @value. Result: none.
UPDATE counters SET value = @value WHERE name = 'pending_seq' AND value < @value;
