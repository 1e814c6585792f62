-- PromoteDue: moves up to @limit scheduled and retrying jobs that are due (scheduled_at <= @now) to pending,
-- earliest due first, each with pending_seq @seq_base + its rank, so they queue behind the waiting jobs.
-- Parameters: @now, @limit, @seq_base.
-- Result: the number of rows changed; the caller advances the counter by that number.
UPDATE jobs
SET state = 'pending',
    enqueued_at = @now,
    pending_seq = @seq_base + due.rank,
    updated_at = @now
FROM (SELECT seq, row_number() OVER (ORDER BY scheduled_at, seq) AS rank
      FROM (SELECT seq, scheduled_at FROM jobs INDEXED BY jobs_due
            WHERE state IN ('scheduled', 'retrying') AND scheduled_at <= @now
            ORDER BY scheduled_at, seq
            LIMIT @limit + 0)) AS due
WHERE jobs.seq = due.seq;
