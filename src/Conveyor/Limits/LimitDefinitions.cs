using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>The limits of <see cref="ConveyorLimitsOptions"/> as store records, and back.</summary>
internal static class LimitDefinitions
{
    /// <summary>The configured limits as records of source <see cref="LimitSource.Configuration"/>, in kind then name order.</summary>
    public static IReadOnlyList<LimitRecord> FromOptions(ConveyorLimitsOptions? options)
    {
        var records = new List<LimitRecord>();
        foreach (var (name, limit) in (options?.Concurrency ?? []).OrderBy(static l => l.Key, StringComparer.Ordinal))
        {
            if (limit is not null)
            {
                records.Add(ToRecord(name, limit, LimitSource.Configuration));
            }
        }

        foreach (var (name, limit) in (options?.Rate ?? []).OrderBy(static l => l.Key, StringComparer.Ordinal))
        {
            if (limit is not null)
            {
                records.Add(ToRecord(name, limit, LimitSource.Configuration));
            }
        }

        return records;
    }

    public static LimitRecord ToRecord(string name, ConcurrencyLimit limit, LimitSource source) => new()
    {
        Kind = LimitKind.Concurrency,
        Name = name,
        Queue = limit.Queue,
        JobType = limit.JobType,
        PerTenant = limit.Partition == LimitPartition.Tenant,
        Limit = limit.Max,
        Source = source,
    };

    public static LimitRecord ToRecord(string name, RateLimit limit, LimitSource source) => LimitRecords.Normalize(new LimitRecord
    {
        Kind = LimitKind.Rate,
        Name = name,
        Queue = limit.Queue,
        JobType = limit.JobType,
        PerTenant = limit.Partition == LimitPartition.Tenant,
        Limit = limit.Limit,
        Period = limit.Period,
        Burst = limit.Burst,
        Source = source,
    });

    /// <summary>
    /// The records as options, which the rules are built from. A record that is not a valid limit (written to the store
    /// by hand) is left out rather than handed to a dequeue. Every valid one applies, however many: the cap of
    /// <see cref="ConveyorLimitsOptions.MaxCount"/> bounds a server's configuration and what the API adds (it refuses a
    /// new limit while the store holds that many of the kind), and the store may hold more (a server's configured limits
    /// are written at its start whatever the API added, and PUTs at the same moment may pass the count). Cut at the
    /// cap, the limits past it by name were listed as in force and never applied.
    /// </summary>
    public static ConveyorLimitsOptions ToOptions(IReadOnlyList<LimitRecord> records)
    {
        var options = new ConveyorLimitsOptions();
        foreach (var record in records)
        {
            var partition = record.PerTenant ? LimitPartition.Tenant : LimitPartition.None;
            if (record.Kind == LimitKind.Concurrency)
            {
                var limit = new ConcurrencyLimit { Queue = record.Queue, JobType = record.JobType, Partition = partition, Max = record.Limit };
                if (!ConveyorLimitsOptionsValidator.Check(record.Name, limit).Any())
                {
                    options.Concurrency[record.Name] = limit;
                }
            }
            else if (record.Kind == LimitKind.Rate)
            {
                var limit = new RateLimit { Queue = record.Queue, JobType = record.JobType, Partition = partition, Limit = record.Limit, Period = record.Period, Burst = record.Burst, DefinedAt = DefinedAt(record) };
                if (!ConveyorLimitsOptionsValidator.CheckRate(record.Name, limit).Any())
                {
                    options.Rate[record.Name] = limit;
                }
            }
        }

        return options;
    }

    /// <summary>
    /// When an API limit's record was written, which starts its rate limiter afresh; null for a configured limit, whose
    /// limiter must have the same key in a process that never reads the store (a web app taking permits through
    /// <see cref="IConveyorRateLimiters"/> with its configuration) as on the servers.
    /// </summary>
    private static DateTimeOffset? DefinedAt(LimitRecord record) =>
        record.Source == LimitSource.Api && record.UpdatedAt != default ? record.UpdatedAt : null;

    /// <summary>True when both records define the same limit (source and time aside).</summary>
    public static bool SameDefinition(LimitRecord a, LimitRecord b) =>
        a.Kind == b.Kind && a.Name == b.Name && a.Queue == b.Queue && a.JobType == b.JobType && a.PerTenant == b.PerTenant
        && a.Limit == b.Limit && a.Period == b.Period && a.Burst == b.Burst;
}
