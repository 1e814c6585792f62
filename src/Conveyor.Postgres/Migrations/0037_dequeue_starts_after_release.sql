-- Conveyor PostgreSQL store, migration 0037: a dequeued job starts no earlier than it became pending.
--
-- Every store call takes its time when it begins. A server's dequeue, sent at t1, can run after another server's
-- acknowledgement, begun at t2 > t1, committed the release of a job (its dependencies' end, a batch's finish): the
-- dequeue leased the job with started_at = t1, before it was released and before what it waited for ended. The three
-- dequeue functions now write started_at (and updated_at) as greatest(p_now, enqueued_at); their bodies are those of
-- 0001 (dequeue), 0014 (dequeue_fair) and 0020 (dequeue_limited) with that one change. The one-queue statements
-- in PostgresJobStore.Dequeue.cs do the same.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0037_dequeue_starts_after_release.sql
SELECT set_config('conveyor.migration_schema', :'schema', false);

DO $do$
BEGIN
EXECUTE format($function$
CREATE OR REPLACE FUNCTION %1$I.dequeue(
    p_queues           text[],
    p_quotas           integer[],
    p_limit            integer,
    p_owner            text,
    p_now              timestamptz,
    p_lease_expires_at timestamptz)
RETURNS SETOF %1$I.jobs
LANGUAGE plpgsql
AS $body$
DECLARE
    v_paused text[];
    v_taken  integer := 0;
    v_want   integer;
    v_count  integer;
BEGIN
    SELECT coalesce(array_agg(q.name), '{}') INTO v_paused FROM %1$I.queues q WHERE q.paused;
    FOR v_pass IN 1..2 LOOP
        FOR v_i IN 1..coalesce(array_length(p_queues, 1), 0) LOOP
            v_want := p_limit - v_taken;
            IF v_pass = 1 THEN
                v_want := least(v_want, p_quotas[v_i]);
            END IF;
            CONTINUE WHEN v_want <= 0 OR p_queues[v_i] = ANY (v_paused);

            RETURN QUERY
            WITH picked AS (
                SELECT j.id
                FROM %1$I.jobs j
                WHERE j.state = 'pending' AND j.queue = p_queues[v_i]
                ORDER BY j.enqueued_at, j.seq
                LIMIT v_want
                FOR UPDATE SKIP LOCKED
            ), leased AS (
                UPDATE %1$I.jobs j
                SET state = 'active',
                    attempts = j.attempts + 1,
                    started_at = greatest(p_now, j.enqueued_at),
                    updated_at = greatest(p_now, j.enqueued_at),
                    lease_token = nextval('%1$I.lease_tokens'),
                    lease_owner = p_owner,
                    lease_expires_at = p_lease_expires_at,
                    cancel_requested = false
                FROM picked
                WHERE j.id = picked.id
                RETURNING j.*
            )
            SELECT * FROM leased ORDER BY leased.enqueued_at, leased.seq;

            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_taken := v_taken + v_count;
        END LOOP;
        EXIT WHEN v_taken >= p_limit;
    END LOOP;
END
$body$
$function$, current_setting('conveyor.migration_schema'));
END
$do$;

DO $do$
BEGIN
EXECUTE format($function$
CREATE OR REPLACE FUNCTION %1$I.dequeue_fair(
    p_queues           text[],
    p_quotas           integer[],
    p_limit            integer,
    p_owner            text,
    p_now              timestamptz,
    p_lease_expires_at timestamptz,
    f_queues           text[],
    f_last             text[],
    l_queues           text[],
    l_types            text[],
    l_per_tenant       boolean[],
    l_max              integer[],
    p_depth            integer,
    p_rounds           integer)
RETURNS SETOF %1$I.jobs
LANGUAGE plpgsql
AS $body$
DECLARE
    v_paused    text[];
    v_taken     integer := 0;
    v_want      integer;
    v_need      integer;
    v_got       integer;
    v_count     integer;
    v_done      boolean[];
    v_running   jsonb := '{}';
    v_ids       text[];
    v_id_tenant text[];
    v_fits      boolean;
    v_key       text;
    v_job       record;
    v_queue     text;
    v_f         integer;
    v_last      text[] := f_last;
    v_tenants   text[];
    v_tenant    text;
    v_after     text;
    v_wrapped   boolean;
    v_share     integer;
    v_scan      integer;
    v_per       jsonb;
    v_limited   boolean;
BEGIN
    FOR v_queue IN SELECT DISTINCT q FROM unnest(l_queues) q ORDER BY q LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended('conveyor.limits:%1$s:' || v_queue, 0));
    END LOOP;

    IF coalesce(array_length(l_queues, 1), 0) > 0 THEN
        SELECT coalesce(jsonb_object_agg(k, n), '{}') INTO v_running
        FROM (
            SELECT l.i || '|' || CASE WHEN l_per_tenant[l.i] THEN j.tenant ELSE '' END AS k, count(*) AS n
            FROM generate_subscripts(l_queues, 1) AS l(i)
            JOIN %1$I.jobs j ON j.state = 'active' AND j.queue = l_queues[l.i] AND (l_types[l.i] IS NULL OR j.type = l_types[l.i])
            GROUP BY 1
        ) counted;
    END IF;

    SELECT coalesce(array_agg(q.name), '{}') INTO v_paused FROM %1$I.queues q WHERE q.paused;
    v_done := array_fill(false, ARRAY[coalesce(array_length(p_queues, 1), 0)]);
    FOR v_pass IN 1..2 LOOP
        FOR v_i IN 1..coalesce(array_length(p_queues, 1), 0) LOOP
            v_want := p_limit - v_taken;
            IF v_pass = 1 THEN
                v_want := least(v_want, p_quotas[v_i]);
            END IF;
            CONTINUE WHEN v_want <= 0 OR v_done[v_i] OR p_queues[v_i] = ANY (v_paused);
            v_limited := p_queues[v_i] = ANY (l_queues);
            v_f := array_position(f_queues, p_queues[v_i]);

            IF v_f IS NOT NULL THEN
                v_got := 0;
                FOR v_round IN 1..p_rounds LOOP
                    v_need := v_want - v_got;
                    EXIT WHEN v_need <= 0;
                    -- The tenants of this round, one index probe each: after the last one served, then from the first.
                    v_tenants := '{}';
                    v_after := v_last[v_f];
                    v_wrapped := v_last[v_f] = '';
                    WHILE coalesce(array_length(v_tenants, 1), 0) < v_need LOOP
                        SELECT j.tenant INTO v_tenant FROM %1$I.jobs j
                        WHERE j.state = 'pending' AND j.queue = p_queues[v_i] AND j.tenant > v_after
                        ORDER BY j.tenant LIMIT 1;
                        IF NOT FOUND OR (v_wrapped AND v_last[v_f] <> '' AND v_tenant COLLATE "C" > v_last[v_f]) THEN
                            EXIT WHEN v_wrapped;
                            v_wrapped := true;
                            v_after := '';
                            CONTINUE;
                        END IF;
                        v_tenants := v_tenants || v_tenant;
                        v_after := v_tenant;
                    END LOOP;
                    EXIT WHEN coalesce(array_length(v_tenants, 1), 0) = 0;

                    v_share := (v_need + array_length(v_tenants, 1) - 1) / array_length(v_tenants, 1);
                    v_scan := CASE WHEN v_limited THEN greatest(v_share, p_depth / array_length(v_tenants, 1)) ELSE v_share END;
                    v_ids := '{}';
                    v_id_tenant := '{}';
                    v_per := '{}';
                    -- Candidates in turn order: every tenant's first job, then every tenant's second, and so on.
                    FOR v_job IN
                        SELECT c.id, c.type, c.tenant
                        FROM unnest(v_tenants) WITH ORDINALITY AS t(tenant, pos)
                        CROSS JOIN LATERAL (
                            SELECT s.id, s.type, s.tenant, row_number() OVER (ORDER BY s.enqueued_at, s.seq) AS rn
                            FROM (
                                SELECT j.id, j.type, j.tenant, j.enqueued_at, j.seq
                                FROM %1$I.jobs j
                                WHERE j.state = 'pending' AND j.queue = p_queues[v_i] AND j.tenant >= t.tenant
                                ORDER BY j.tenant, j.enqueued_at, j.seq
                                LIMIT v_scan
                            ) s
                            WHERE s.tenant = t.tenant
                        ) c
                        ORDER BY c.rn, t.pos
                    LOOP
                        EXIT WHEN coalesce(array_length(v_ids, 1), 0) >= v_need;
                        CONTINUE WHEN coalesce((v_per ->> v_job.tenant)::integer, 0) >= v_share;
                        IF v_limited THEN
                            v_fits := true;
                            FOR v_l IN 1..array_length(l_queues, 1) LOOP
                                CONTINUE WHEN l_queues[v_l] <> p_queues[v_i] OR (l_types[v_l] IS NOT NULL AND l_types[v_l] <> v_job.type);
                                v_key := v_l || '|' || CASE WHEN l_per_tenant[v_l] THEN v_job.tenant ELSE '' END;
                                IF coalesce((v_running ->> v_key)::integer, 0) >= l_max[v_l] THEN
                                    v_fits := false;
                                    EXIT;
                                END IF;
                            END LOOP;
                            CONTINUE WHEN NOT v_fits;
                            FOR v_l IN 1..array_length(l_queues, 1) LOOP
                                CONTINUE WHEN l_queues[v_l] <> p_queues[v_i] OR (l_types[v_l] IS NOT NULL AND l_types[v_l] <> v_job.type);
                                v_key := v_l || '|' || CASE WHEN l_per_tenant[v_l] THEN v_job.tenant ELSE '' END;
                                v_running := v_running || jsonb_build_object(v_key, coalesce((v_running ->> v_key)::integer, 0) + 1);
                            END LOOP;
                        END IF;
                        v_per := v_per || jsonb_build_object(v_job.tenant, coalesce((v_per ->> v_job.tenant)::integer, 0) + 1);
                        v_ids := v_ids || v_job.id;
                        v_id_tenant := v_id_tenant || v_job.tenant;
                    END LOOP;
                    EXIT WHEN coalesce(array_length(v_ids, 1), 0) = 0;

                    RETURN QUERY
                    WITH picked AS (
                        SELECT j.id FROM %1$I.jobs j
                        WHERE j.id = ANY (v_ids) AND j.state = 'pending'
                        FOR UPDATE SKIP LOCKED
                    ), leased AS (
                        UPDATE %1$I.jobs j
                        SET state = 'active',
                            attempts = j.attempts + 1,
                            started_at = greatest(p_now, j.enqueued_at),
                            updated_at = greatest(p_now, j.enqueued_at),
                            lease_token = nextval('%1$I.lease_tokens'),
                            lease_owner = p_owner,
                            lease_expires_at = p_lease_expires_at,
                            cancel_requested = false
                        FROM picked
                        WHERE j.id = picked.id
                        RETURNING j.*
                    )
                    SELECT * FROM leased ORDER BY array_position(v_ids, leased.id);

                    GET DIAGNOSTICS v_count = ROW_COUNT;
                    v_last[v_f] := v_id_tenant[array_length(v_id_tenant, 1)];
                    EXIT WHEN v_count = 0;
                    v_got := v_got + v_count;
                END LOOP;
                v_count := v_got;
            ELSIF v_limited THEN
                v_ids := '{}';
                FOR v_job IN
                    SELECT j.id, j.type, j.tenant FROM %1$I.jobs j
                    WHERE j.state = 'pending' AND j.queue = p_queues[v_i]
                    ORDER BY j.enqueued_at, j.seq
                    LIMIT p_depth
                LOOP
                    EXIT WHEN coalesce(array_length(v_ids, 1), 0) >= v_want;
                    v_fits := true;
                    FOR v_l IN 1..array_length(l_queues, 1) LOOP
                        CONTINUE WHEN l_queues[v_l] <> p_queues[v_i] OR (l_types[v_l] IS NOT NULL AND l_types[v_l] <> v_job.type);
                        v_key := v_l || '|' || CASE WHEN l_per_tenant[v_l] THEN v_job.tenant ELSE '' END;
                        IF coalesce((v_running ->> v_key)::integer, 0) >= l_max[v_l] THEN
                            v_fits := false;
                            EXIT;
                        END IF;
                    END LOOP;
                    CONTINUE WHEN NOT v_fits;
                    FOR v_l IN 1..array_length(l_queues, 1) LOOP
                        CONTINUE WHEN l_queues[v_l] <> p_queues[v_i] OR (l_types[v_l] IS NOT NULL AND l_types[v_l] <> v_job.type);
                        v_key := v_l || '|' || CASE WHEN l_per_tenant[v_l] THEN v_job.tenant ELSE '' END;
                        v_running := v_running || jsonb_build_object(v_key, coalesce((v_running ->> v_key)::integer, 0) + 1);
                    END LOOP;
                    v_ids := v_ids || v_job.id;
                END LOOP;

                RETURN QUERY
                WITH picked AS (
                    SELECT j.id FROM %1$I.jobs j
                    WHERE j.id = ANY (v_ids) AND j.state = 'pending'
                    FOR UPDATE SKIP LOCKED
                ), leased AS (
                    UPDATE %1$I.jobs j
                    SET state = 'active',
                        attempts = j.attempts + 1,
                        started_at = greatest(p_now, j.enqueued_at),
                        updated_at = greatest(p_now, j.enqueued_at),
                        lease_token = nextval('%1$I.lease_tokens'),
                        lease_owner = p_owner,
                        lease_expires_at = p_lease_expires_at,
                        cancel_requested = false
                    FROM picked
                    WHERE j.id = picked.id
                    RETURNING j.*
                )
                SELECT * FROM leased ORDER BY leased.enqueued_at, leased.seq;
                GET DIAGNOSTICS v_count = ROW_COUNT;
            ELSE
                RETURN QUERY
                WITH picked AS (
                    SELECT j.id
                    FROM %1$I.jobs j
                    WHERE j.state = 'pending' AND j.queue = p_queues[v_i]
                    ORDER BY j.enqueued_at, j.seq
                    LIMIT v_want
                    FOR UPDATE SKIP LOCKED
                ), leased AS (
                    UPDATE %1$I.jobs j
                    SET state = 'active',
                        attempts = j.attempts + 1,
                        started_at = greatest(p_now, j.enqueued_at),
                        updated_at = greatest(p_now, j.enqueued_at),
                        lease_token = nextval('%1$I.lease_tokens'),
                        lease_owner = p_owner,
                        lease_expires_at = p_lease_expires_at,
                        cancel_requested = false
                    FROM picked
                    WHERE j.id = picked.id
                    RETURNING j.*
                )
                SELECT * FROM leased ORDER BY leased.enqueued_at, leased.seq;
                GET DIAGNOSTICS v_count = ROW_COUNT;
            END IF;

            v_taken := v_taken + v_count;
            -- A queue that gave fewer than asked has nothing more for this dequeue.
            v_done[v_i] := v_count < v_want;
        END LOOP;
        EXIT WHEN v_taken >= p_limit;
    END LOOP;
END
$body$
$function$, current_setting('conveyor.migration_schema'));
END
$do$;

DO $do$
BEGIN
EXECUTE format($function$
CREATE OR REPLACE FUNCTION %1$I.dequeue_limited(
    p_queues           text[],
    p_quotas           integer[],
    p_limit            integer,
    p_owner            text,
    p_now              timestamptz,
    p_lease_expires_at timestamptz,
    l_queues           text[],
    l_types            text[],
    l_per_tenant       boolean[],
    l_max              integer[],
    p_depth            integer)
RETURNS SETOF %1$I.jobs
LANGUAGE plpgsql
AS $body$
DECLARE
    v_paused    text[];
    v_taken     integer := 0;
    v_want      integer;
    v_count     integer;
    v_done      boolean[];
    v_running   jsonb := '{}';
    v_ids       text[];
    v_fits      boolean;
    v_key       text;
    v_job       record;
    v_queue     text;
    v_far       text[];
    v_stop      boolean;
BEGIN
    FOR v_queue IN SELECT DISTINCT q FROM unnest(l_queues) q ORDER BY q LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended('conveyor.limits:%1$s:' || v_queue, 0));
    END LOOP;

    -- The limited queues far from every limit of theirs: taken below as unlimited ones.
    SELECT coalesce(array_agg(m.queue), '{}') INTO v_far
    FROM (
        SELECT l_queues[l.i] AS queue, min(l_max[l.i]) AS smallest
        FROM generate_subscripts(l_queues, 1) AS l(i)
        GROUP BY 1
    ) m
    WHERE (SELECT count(*) FROM %1$I.jobs j WHERE j.state = 'active' AND j.queue = m.queue) + p_limit <= m.smallest;

    -- Running jobs per limit and partition: "limit index|tenant" (tenant empty for a limit not per tenant), for the
    -- queues near a limit only.
    IF coalesce(array_length(v_far, 1), 0) < (SELECT count(DISTINCT q) FROM unnest(l_queues) q) THEN
        SELECT coalesce(jsonb_object_agg(k, n), '{}') INTO v_running
        FROM (
            SELECT l.i || '|' || CASE WHEN l_per_tenant[l.i] THEN j.tenant ELSE '' END AS k, count(*) AS n
            FROM generate_subscripts(l_queues, 1) AS l(i)
            JOIN %1$I.jobs j ON j.state = 'active' AND j.queue = l_queues[l.i] AND (l_types[l.i] IS NULL OR j.type = l_types[l.i])
            WHERE NOT (l_queues[l.i] = ANY (v_far))
            GROUP BY 1
        ) counted;
    END IF;

    SELECT coalesce(array_agg(q.name), '{}') INTO v_paused FROM %1$I.queues q WHERE q.paused;
    v_done := array_fill(false, ARRAY[coalesce(array_length(p_queues, 1), 0)]);
    FOR v_pass IN 1..2 LOOP
        FOR v_i IN 1..coalesce(array_length(p_queues, 1), 0) LOOP
            v_want := p_limit - v_taken;
            IF v_pass = 1 THEN
                v_want := least(v_want, p_quotas[v_i]);
            END IF;
            CONTINUE WHEN v_want <= 0 OR v_done[v_i] OR p_queues[v_i] = ANY (v_paused);

            IF p_queues[v_i] = ANY (l_queues) AND NOT (p_queues[v_i] = ANY (v_far)) THEN
                -- Choose, in queue order, the jobs that fit every limit that matches them, counting each as it is chosen.
                v_ids := '{}';
                v_stop := false;
                FOR v_job IN
                    SELECT j.id, j.type, j.tenant FROM %1$I.jobs j
                    WHERE j.state = 'pending' AND j.queue = p_queues[v_i]
                    ORDER BY j.enqueued_at, j.seq
                    LIMIT p_depth
                LOOP
                    EXIT WHEN coalesce(array_length(v_ids, 1), 0) >= v_want;
                    v_fits := true;
                    FOR v_l IN 1..array_length(l_queues, 1) LOOP
                        CONTINUE WHEN l_queues[v_l] <> p_queues[v_i] OR (l_types[v_l] IS NOT NULL AND l_types[v_l] <> v_job.type);
                        v_key := v_l || '|' || CASE WHEN l_per_tenant[v_l] THEN v_job.tenant ELSE '' END;
                        IF coalesce((v_running ->> v_key)::integer, 0) >= l_max[v_l] THEN
                            v_fits := false;
                            -- A full limit over the whole queue: no job behind this one fits either.
                            v_stop := l_types[v_l] IS NULL AND NOT l_per_tenant[v_l];
                            EXIT;
                        END IF;
                    END LOOP;
                    EXIT WHEN v_stop;
                    CONTINUE WHEN NOT v_fits;
                    FOR v_l IN 1..array_length(l_queues, 1) LOOP
                        CONTINUE WHEN l_queues[v_l] <> p_queues[v_i] OR (l_types[v_l] IS NOT NULL AND l_types[v_l] <> v_job.type);
                        v_key := v_l || '|' || CASE WHEN l_per_tenant[v_l] THEN v_job.tenant ELSE '' END;
                        v_running := v_running || jsonb_build_object(v_key, coalesce((v_running ->> v_key)::integer, 0) + 1);
                    END LOOP;
                    v_ids := v_ids || v_job.id;
                END LOOP;

                -- A chosen job another (unlimited) dequeue took meanwhile is skipped: the counts only err on the safe side.
                RETURN QUERY
                WITH picked AS (
                    SELECT j.id FROM %1$I.jobs j
                    WHERE j.id = ANY (v_ids) AND j.state = 'pending'
                    FOR UPDATE SKIP LOCKED
                ), leased AS (
                    UPDATE %1$I.jobs j
                    SET state = 'active',
                        attempts = j.attempts + 1,
                        started_at = greatest(p_now, j.enqueued_at),
                        updated_at = greatest(p_now, j.enqueued_at),
                        lease_token = nextval('%1$I.lease_tokens'),
                        lease_owner = p_owner,
                        lease_expires_at = p_lease_expires_at,
                        cancel_requested = false
                    FROM picked
                    WHERE j.id = picked.id
                    RETURNING j.*
                )
                SELECT * FROM leased ORDER BY leased.enqueued_at, leased.seq;
            ELSE
                RETURN QUERY
                WITH picked AS (
                    SELECT j.id
                    FROM %1$I.jobs j
                    WHERE j.state = 'pending' AND j.queue = p_queues[v_i]
                    ORDER BY j.enqueued_at, j.seq
                    LIMIT v_want
                    FOR UPDATE SKIP LOCKED
                ), leased AS (
                    UPDATE %1$I.jobs j
                    SET state = 'active',
                        attempts = j.attempts + 1,
                        started_at = greatest(p_now, j.enqueued_at),
                        updated_at = greatest(p_now, j.enqueued_at),
                        lease_token = nextval('%1$I.lease_tokens'),
                        lease_owner = p_owner,
                        lease_expires_at = p_lease_expires_at,
                        cancel_requested = false
                    FROM picked
                    WHERE j.id = picked.id
                    RETURNING j.*
                )
                SELECT * FROM leased ORDER BY leased.enqueued_at, leased.seq;
            END IF;

            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_taken := v_taken + v_count;
            -- A queue that gave fewer than asked has nothing more for this dequeue.
            v_done[v_i] := v_count < v_want;
        END LOOP;
        EXIT WHEN v_taken >= p_limit;
    END LOOP;
END
$body$
$function$, current_setting('conveyor.migration_schema'));
END
$do$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (37, '0037_dequeue_starts_after_release') ON CONFLICT (version) DO NOTHING;
