using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    /// <remarks>One write transaction for the whole list: one writer at a time, so each read-decide-write is atomic.</remarks>
    public ValueTask<IReadOnlyList<RatePermitResult>> TryAcquireRatePermitsAsync(IReadOnlyList<RatePermitRequest> requests, CancellationToken cancellationToken)
    {
        RatePermits.Validate(requests);
        if (requests.Count == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<RatePermitResult>>([]);
        }

        return WriteAsync(requests, static (store, session, r) => session.InTransaction((store, r), static (s, state) =>
        {
            var now = UnixTime.ToMicroseconds(state.store._timeProvider.GetUtcNow());
            var read = s.Command(SqlStatement.ReadRateLimiter);
            var write = s.Command(SqlStatement.WriteRateLimiter);
            var results = new RatePermitResult[state.r.Count];
            for (var i = 0; i < results.Length; i++)
            {
                var request = state.r[i];
                var interval = RatePermits.IntervalMicroseconds(request);
                long tat = now;
                using (var reader = read.Bind("@key", request.Key).ExecuteReader())
                {
                    if (reader.Read())
                    {
                        tat = Math.Max(tat, reader.GetInt64(0));
                    }
                }

                var next = tat + (interval * request.Permits);
                var allowedAt = next - (interval * request.Burst);
                if (allowedAt <= now)
                {
                    write.Bind("@key", request.Key).Bind("@tat", next).ExecuteNonQuery();
                    results[i] = RatePermitResult.Granted;
                }
                else
                {
                    results[i] = new RatePermitResult(false, TimeSpan.FromMicroseconds(allowedAt - now));
                }
            }

            return (IReadOnlyList<RatePermitResult>)results;
        }), cancellationToken);
    }
}
