using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    public async ValueTask<bool> TryCreateScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return await WriteScheduleAsync(RedisScript.ScheduleCreate, schedule, revision: Random.Shared.NextInt64(1L << 52)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryReplaceScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return await WriteScheduleAsync(RedisScript.ScheduleReplace, schedule, schedule.Revision).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<ScheduleRecord?> GetScheduleAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(name);
        var found = await ReadSchedulesAsync([ScheduleJson.Member(tenant, name)]).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(string? tenant, CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var members = await db.HashKeysAsync(_keys.ScheduleDefinitions).ConfigureAwait(false);
            var wanted = members
                .Select(static m => (string)m!)
                .Where(m => tenant is null || m.StartsWith(tenant + "\n", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .ToArray();
            return wanted.Length == 0 ? [] : await ReadSchedulesAsync(wanted).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>The due schedules listed beyond those asked for, and how many times a listing left short is made again.</summary>
    private const int DueListingSpare = 16, MaxDueListings = 3;

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            // A few more than asked for: a schedule moved past until (or paused) between the range and its read leaves
            // the listing short, and the scheduler ends its pass on a short listing (the due schedules after it waited
            // for the next poll). Listed again, a few times at most, when more than those moved.
            var range = limit + Math.Min(limit, DueListingSpare);
            for (var listing = 1; ; listing++)
            {
                // Equal scores come out in member order: tenant, then name (the separator sorts before every name character).
                var due = await db.SortedSetRangeByScoreWithScoresAsync(
                    _keys.ScheduleNextTicks, double.NegativeInfinity, RedisTime.ToMicros(until), Exclude.None, Order.Ascending, 0, range).ConfigureAwait(false);
                if (due.Length == 0)
                {
                    return [];
                }

                // The next ticks are read again in the transaction of the revisions: the ones listed came from an earlier
                // command, and a tick recorded in between would pair a next tick with the revision after it.
                var read = await ReadSchedulesAsync(due.Select(static e => (string)e.Element!).ToArray()).ConfigureAwait(false);
                var stillDue = read.Where(s => s.NextFireAt is { } next && next <= until).Take(limit).ToList();
                if (stillDue.Count == limit || due.Length < range || listing == MaxDueListings)
                {
                    return stillDue;
                }
            }
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryRecordScheduleFireAsync(ScheduleFire fire, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fire);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var result = await EvaluateAsync(db, RedisScript.ScheduleFire, _keys.Schedules,
            [
                ScheduleJson.Member(fire.Tenant, fire.Name),
                RedisTime.Value(fire.ExpectedNextFireAt),
                RedisTime.Value(fire.NextFireAt),
                RedisTime.Value(fire.LastFireAt),
                fire.LastJobId ?? string.Empty,
            ]).ConfigureAwait(false);
            return (int)result == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> DeleteScheduleAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(name);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var member = ScheduleJson.Member(tenant, name);
            var transaction = db.CreateTransaction();
            var deleted = transaction.HashDeleteAsync(_keys.ScheduleDefinitions, member);
            _ = transaction.SortedSetRemoveAsync(_keys.ScheduleNextTicks, member);
            _ = transaction.HashDeleteAsync(_keys.ScheduleHistory, member);
            _ = transaction.HashDeleteAsync(_keys.ScheduleRevisions, member);
            await transaction.ExecuteAsync().ConfigureAwait(false);
            return await deleted.ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>Runs a create or a replace; <paramref name="revision"/> is a create's first revision, the revision a replace was read at.</summary>
    private async ValueTask<bool> WriteScheduleAsync(RedisScript script, ScheduleRecord schedule, long revision)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var now = NowMicros();
            var result = await EvaluateAsync(db, script, _keys.Schedules,
            [
                ScheduleJson.Member(schedule.Tenant, schedule.Name),
                ScheduleJson.Write(schedule, now),
                schedule.Paused ? RedisValue.EmptyString : RedisTime.Value(schedule.NextFireAt),
                RedisTime.Format(now),
                revision,
            ]).ConfigureAwait(false);
            return (int)result == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>
    /// The schedules of <paramref name="members"/> that still exist, in that order, in one round trip, with their next
    /// ticks. One transaction (the keys share the schedules' slot):
    /// as separate commands, a write landing between them paired a definition with a later revision, and a replace
    /// decided on that definition applied over the write (RedisScheduleRevisionReadTests).
    /// </summary>
    private async ValueTask<IReadOnlyList<ScheduleRecord>> ReadSchedulesAsync(string[] members)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var fields = members.Select(static m => (RedisValue)m).ToArray();
            var read = db.CreateTransaction();
            var definitions = read.HashGetAsync(_keys.ScheduleDefinitions, fields);
            var history = read.HashGetAsync(_keys.ScheduleHistory, fields);
            var revisions = read.HashGetAsync(_keys.ScheduleRevisions, fields);
            var scores = read.SortedSetScoresAsync(_keys.ScheduleNextTicks, fields);
            await read.ExecuteAsync().ConfigureAwait(false);
            var definitionValues = await definitions.ConfigureAwait(false);
            var historyValues = await history.ConfigureAwait(false);
            var revisionValues = await revisions.ConfigureAwait(false);
            var ticks = await scores.ConfigureAwait(false);
            var schedules = new List<ScheduleRecord>(members.Length);
            for (var i = 0; i < members.Length; i++)
            {
                if (!definitionValues[i].IsNullOrEmpty)
                {
                    schedules.Add(ScheduleJson.Read(members[i], (byte[])definitionValues[i]!, ticks[i], historyValues[i]) with
                    {
                        Revision = revisionValues[i].IsNull ? 0 : (long)revisionValues[i],
                    });
                }
            }

            return schedules;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }
}
