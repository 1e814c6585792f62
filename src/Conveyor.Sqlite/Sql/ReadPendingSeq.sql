-- ReadPendingSeq: the last pending_seq handed out. Read inside a write transaction, which then hands out
-- the following numbers and stores the last one with AdvancePendingSeq.
-- Parameters: none. Result: one row (value).
SELECT value FROM counters WHERE name = 'pending_seq';
