-- Conveyor PostgreSQL store, migration 0011: the rate limiters of TryAcquireRatePermitsAsync, one row per key with its
-- theoretical arrival time (GCRA; see IJobCoordinationStore). A row whose time has passed holds nothing; the
-- janitor's purge deletes those.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0011_rate_limits.sql
--
-- acquire_rate_permits() answers a list of requests in order, in one call: it first creates the missing rows and
-- locks every row of the list in key order (so two calls never wait on each other in a cycle), then decides each
-- request on its locked row. A purge's delete waits for those locks, so a row in use is never deleted under it.
CREATE TABLE IF NOT EXISTS :"schema".rate_limiters (
    key text        COLLATE "C" PRIMARY KEY,
    tat timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS rate_limiters_tat_idx ON :"schema".rate_limiters (tat);

SELECT set_config('conveyor.migration_schema', :'schema', false);

DO $do$
BEGIN
EXECUTE format($function$
CREATE OR REPLACE FUNCTION %1$I.acquire_rate_permits(
    p_keys      text[],
    p_intervals bigint[],
    p_bursts    integer[],
    p_permits   integer[],
    p_now       timestamptz)
RETURNS TABLE (acquired boolean, retry_after_us bigint)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_tat      timestamptz;
    v_next     timestamptz;
    v_allowed  timestamptz;
BEGIN
    -- Creates the missing rows and locks every row of the list (ON CONFLICT DO UPDATE locks the existing ones), in key
    -- order; a purge that would delete a passed row waits for the lock, then finds its time moved on.
    INSERT INTO %1$I.rate_limiters AS r (key, tat)
    SELECT DISTINCT k, '-infinity'::timestamptz FROM unnest(p_keys) AS k ORDER BY 1
    ON CONFLICT (key) DO UPDATE SET tat = r.tat;

    FOR v_i IN 1..coalesce(array_length(p_keys, 1), 0) LOOP
        SELECT greatest(r.tat, p_now) INTO v_tat FROM %1$I.rate_limiters r WHERE r.key = p_keys[v_i];
        v_next := v_tat + (p_intervals[v_i] * p_permits[v_i]) * interval '1 microsecond';
        v_allowed := v_next - (p_intervals[v_i] * p_bursts[v_i]) * interval '1 microsecond';
        IF v_allowed <= p_now THEN
            UPDATE %1$I.rate_limiters SET tat = v_next WHERE key = p_keys[v_i];
            acquired := true;
            retry_after_us := 0;
        ELSE
            acquired := false;
            retry_after_us := round(extract(epoch FROM v_allowed - p_now) * 1000000)::bigint;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$body$
$function$, current_setting('conveyor.migration_schema'));
END
$do$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (11, '0011_rate_limits') ON CONFLICT (version) DO NOTHING;
