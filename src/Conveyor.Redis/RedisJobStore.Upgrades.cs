using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    private const string TenantSetsUpgrade = "tenant-sets";

    // Adds a tenant to its queue's tenant set only while it still has a listing, so a tenant whose last job leaves
    // while the upgrade runs is not named again (both keys carry the queue's hash tag: one slot).
    private const string AddTenantIfListed = """
        if redis.call('ZCARD', KEYS[2]) > 0 then redis.call('SADD', KEYS[1], ARGV[1]) end
        return 0
        """;

    private const string BatchListingsUpgrade = "batch-listings";

    /// <summary>
    /// The key layout this version reads and writes, kept in the upgrades hash. A version whose keys an older one would
    /// leave incomplete (a listing its scripts do not write) raises it; a store at a higher layout is refused, as
    /// SQLite and PostgreSQL refuse a newer schema. Versions before this field cannot refuse, so a roll-back to one of
    /// them is still the operator's to avoid (docs/redis.md). 2: schedules' revisions (<c>…:rev</c>), which older scripts
    /// neither write at a create nor remove at a delete, and Cluster outbox entries that carry a finish time, which older
    /// versions drop.
    /// </summary>
    internal const int KeyLayout = 2;

    // Raises the stored layout to ARGV[1], never lowers it: a newer server starting at the same time keeps its higher one.
    private const string RaiseKeyLayout = """
        local stored = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
        if stored and stored < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], ARGV[2], ARGV[1]) end
        return 0
        """;

    private const string KeyLayoutField = "layout";

    private const string EveryTenantBatchListingUpgrade = "batch-listing-every-tenant";

    // Lists a batch among its tenant's batches and among every tenant's by its creation time, unless it is listed
    // already or is gone (the keys are on the coordination slot). KEYS[1] the batch hash  KEYS[2] every tenant's listing
    // ARGV[1] a tenant's listing's key without the tenant  ARGV[2] its id.
    private const string ListBatchIfStored = """
        local v = redis.call('HMGET', KEYS[1], 'tn', 'c')
        if v[1] and v[2] then
          redis.call('ZADD', ARGV[1] .. v[1], 'NX', v[2], ARGV[2])
          redis.call('ZADD', KEYS[2], 'NX', v[2], ARGV[2])
        end
        return 0
        """;

    /// <summary>
    /// Brings keys written by an earlier version up to what this one reads, once per store (a field of the upgrades
    /// hash marks each step done): every queue's tenant set, which every-tenant listings read, filled from the tenant
    /// listings already there (a store with no queue yet has nothing to fill); and each tenant's batch listing and every
    /// tenant's, filled from the batches already stored (every tenant's came one version after the tenants').
    /// </summary>
    private async Task UpgradeAsync(IDatabase db)
    {
        var layout = await db.HashGetAsync(_keys.Upgrades, KeyLayoutField).ConfigureAwait(false);
        var stored = 0L;
        if (layout.HasValue && (!layout.TryParse(out stored) || stored < 1))
        {
            // No version writes it: a hand edit or another program. Which keys are there cannot be known, so nothing is
            // written over them.
            throw new InvalidDataException(
                $"The Redis store with key prefix '{_keys.Prefix}' has key layout '{layout}' in {_keys.Upgrades}, which no version of Conveyor.Redis writes " +
                $"(a whole number from 1; this version writes {KeyLayout}). Set it back to the layout of the newest version that used the store, or use another key prefix.");
        }

        if (layout.HasValue && stored > KeyLayout)
        {
            // Not unavailable: waiting does not make this version write what the newer one reads, so a server stops at once.
            throw new InvalidDataException(
                $"The Redis store with key prefix '{_keys.Prefix}' has key layout {layout}, newer than the {KeyLayout} this version of Conveyor.Redis knows: " +
                "a newer version has used it, and this one would leave out keys that version reads. Upgrade Conveyor.Redis on every server and worker, or use another key prefix.");
        }

        if (!await db.HashExistsAsync(_keys.Upgrades, TenantSetsUpgrade).ConfigureAwait(false))
        {
            if (await db.SetLengthAsync(_keys.Queues).ConfigureAwait(false) == 0 || await FillTenantSetsAsync(db).ConfigureAwait(false))
            {
                await db.HashSetAsync(_keys.Upgrades, TenantSetsUpgrade, 1).ConfigureAwait(false);
            }
        }

        if (!await db.HashExistsAsync(_keys.Upgrades, EveryTenantBatchListingUpgrade).ConfigureAwait(false)
            && await FillBatchListingsAsync(db).ConfigureAwait(false))
        {
            await db.HashSetAsync(_keys.Upgrades, [new(BatchListingsUpgrade, 1), new(EveryTenantBatchListingUpgrade, 1)]).ConfigureAwait(false);
        }

        if (!layout.HasValue || stored < KeyLayout)
        {
            await db.ScriptEvaluateAsync(RaiseKeyLayout, [_keys.Upgrades], [KeyLayout, KeyLayoutField]).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One SCAN of each primary for batch hashes (<c>{p}:{{p}:coord}:b:{id}</c>, not their <c>#</c> companions): only
    /// the primary that holds the coordination slot has any. Two servers starting together both fill the listings;
    /// ZADD NX makes that harmless.
    /// </summary>
    private Task<bool> FillBatchListingsAsync(IDatabase db) =>
        ForEachKeyAsync(db, Glob(_keys.BatchPrefix) + "*", key =>
        {
            var id = ((string)key!)[_keys.BatchPrefix.Length..];
            return BatchId.IsValid(id) ? db.ScriptEvaluateAsync(ListBatchIfStored, [key, _keys.EveryTenantBatchListing], [_keys.BatchListingPrefix, id]) : null;
        });

    /// <summary>
    /// One SCAN of each primary for tenant listings (<c>{p}:{queue}:t:{tenant}</c>): a single pass over the key space,
    /// once, rather than one per queue. Two servers starting together both fill the sets; SADD makes that harmless.
    /// </summary>
    private Task<bool> FillTenantSetsAsync(IDatabase db)
    {
        var queueStart = _keys.Prefix + ":{";
        return ForEachKeyAsync(db, Glob(queueStart) + "*}:t:?*", key =>
        {
            var name = (string)key!;
            var tagEnd = name.IndexOf("}:t:", queueStart.Length, StringComparison.Ordinal);
            if (tagEnd < 0)
            {
                return null;
            }

            var queue = name[queueStart.Length..tagEnd];
            var tenant = name[(tagEnd + "}:t:".Length)..];
            var keys = QueueKeys(queue);
            return db.ScriptEvaluateAsync(AddTenantIfListed, [keys.Tenants, keys.TenantIndex(tenant)], [tenant]);
        });
    }

    /// <summary>
    /// Runs <paramref name="write"/> (null for a key it passes over) for each key of every primary that matches
    /// <paramref name="pattern"/>, at most 1,000 writes in flight. Returns false when a primary could not be scanned (not
    /// connected): the upgrade step is then not marked done, and the next start tries again.
    /// </summary>
    private async Task<bool> ForEachKeyAsync(IDatabase db, string pattern, Func<RedisKey, Task?> write)
    {
        var complete = true;
        foreach (var server in _connection!.GetServers())
        {
            if (server.IsReplica)
            {
                continue;
            }

            if (!server.IsConnected)
            {
                complete = false;
                continue;
            }

            var pending = new List<Task>();
            await foreach (var key in server.KeysAsync(db.Database, pattern, pageSize: 1000).ConfigureAwait(false))
            {
                if (write(key) is { } writing)
                {
                    pending.Add(writing);
                }

                if (pending.Count == 1000)
                {
                    await Task.WhenAll(pending).ConfigureAwait(false);
                    pending.Clear();
                }
            }

            await Task.WhenAll(pending).ConfigureAwait(false);
        }

        return complete;
    }

    /// <summary>The text matched literally by a Redis glob pattern.</summary>
    private static string Glob(string literal)
    {
        var escaped = new System.Text.StringBuilder(literal.Length);
        foreach (var c in literal)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }
}
