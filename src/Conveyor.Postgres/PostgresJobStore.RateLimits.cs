using Conveyor.Storage;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // acquire_rate_permits() of migration 0011: $1 keys text[], $2 intervals (µs) bigint[], $3 bursts int[],
    // $4 permits int[], $5 now. One row per request, in order: acquired, retry_after_us.
    private const string AcquireRatePermitsTemplate =
        "SELECT acquired, retry_after_us FROM :\"schema\".acquire_rate_permits($1, $2, $3, $4, $5)";

    private string AcquireRatePermitsSql => field ??= Sql(AcquireRatePermitsTemplate);

    /// <inheritdoc />
    /// <remarks>One round trip: one function call for the whole list, its rows locked in key order.</remarks>
    public ValueTask<IReadOnlyList<RatePermitResult>> TryAcquireRatePermitsAsync(IReadOnlyList<RatePermitRequest> requests, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => TryAcquireRatePermitsCoreAsync(requests, token), cancellationToken);

    private async ValueTask<IReadOnlyList<RatePermitResult>> TryAcquireRatePermitsCoreAsync(IReadOnlyList<RatePermitRequest> requests, CancellationToken cancellationToken)
    {
        RatePermits.Validate(requests);
        if (requests.Count == 0)
        {
            return [];
        }

        var keys = new string[requests.Count];
        var intervals = new long[requests.Count];
        var bursts = new int[requests.Count];
        var permits = new int[requests.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = requests[i].Key;
            intervals[i] = RatePermits.IntervalMicroseconds(requests[i]);
            bursts[i] = requests[i].Burst;
            permits[i] = requests[i].Permits;
        }

        try
        {
            await using var batch = WorkerBatch(AcquireRatePermitsSql, out var command);
            command.Parameters.Add(TextArray(keys));
            command.Parameters.Add(P(intervals));
            command.Parameters.Add(P(bursts));
            command.Parameters.Add(P(permits));
            command.Parameters.Add(TimestampTz(Now()));
            var results = new List<RatePermitResult>(requests.Count);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                results.Add(reader.GetBoolean(0) ? RatePermitResult.Granted : new RatePermitResult(false, TimeSpan.FromMicroseconds(reader.GetInt64(1))));
            }

            return results;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }
}
