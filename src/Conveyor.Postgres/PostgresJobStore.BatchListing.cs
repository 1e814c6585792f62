using System.Text;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    /// <inheritdoc />
    public ValueTask<BatchPage> ListBatchesAsync(BatchQuery query, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ListBatchesCoreAsync(query, token), cancellationToken);

    private async ValueTask<BatchPage> ListBatchesCoreAsync(BatchQuery query, CancellationToken cancellationToken)
    {
        var cursor = BatchListing.Check(query);

        var parameters = new List<NpgsqlParameter>();
        if (query.Tenant is { } tenant)
        {
            parameters.Add(Text(tenant));
        }

        if (query.State is { } state)
        {
            parameters.Add(Text(state.ToStorageName()));
        }

        if (cursor is { } after)
        {
            parameters.Add(TimestampTz(DateTimeOffset.UnixEpoch.AddTicks(after.CreatedAtUnixMicroseconds * 10)));
            parameters.Add(Text(after.JobId));
        }

        parameters.Add(new NpgsqlParameter { Value = query.Limit + 1, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        var sql = ListBatchesSql(_options.Schema, query.Tenant is not null, query.State is not null, query.WorkflowsOnly, cursor is not null);

        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            command.Parameters.AddRange(parameters.ToArray());
            var read = new List<BatchInfo>(Math.Min(query.Limit + 1, 128));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                read.Add(ReadBatchRow(reader));
            }

            return BatchListing.Page(read, query.Limit);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <summary>
    /// The listing's statement: the tenant when <paramref name="oneTenant"/>, then the state when
    /// <paramref name="byState"/>, the cursor's time and id when <paramref name="afterCursor"/>, and the page size plus
    /// one, numbered in that order from $1. Only the filters in use appear in the text, so that each combination gets its
    /// own plan on the index in page order that fits it: (tenant, created_at DESC, id DESC), or with the state after the
    /// tenant (migration 0030); every tenant's, (created_at DESC, id DESC) or with the state first, partial so that only
    /// this shape reads them (0031).
    /// </summary>
    internal static string ListBatchesSql(string schema, bool oneTenant, bool byState, bool workflowsOnly, bool afterCursor)
    {
        var sql = new StringBuilder("SELECT id, tenant, state, total, succeeded, failed, cancelled, created_at, updated_at, finished_at, workflow FROM ")
            .Append(PostgresSchemaName.Quote(schema)).Append(".batches WHERE true");
        var next = 1;
        if (oneTenant)
        {
            sql.Append(" AND tenant = $").Append(next++);
        }
        else
        {
            // The predicate of 0031's partial indexes, which only this statement states (see there).
            sql.Append(" AND total >= 0");
        }

        if (byState)
        {
            sql.Append(" AND state = $").Append(next++);
        }

        if (workflowsOnly)
        {
            sql.Append(" AND workflow IS NOT NULL");
        }

        if (afterCursor)
        {
            sql.Append(" AND (created_at, id) < ($").Append(next).Append(", $").Append(next + 1).Append(')');
            next += 2;
        }

        return sql.Append(" ORDER BY created_at DESC, id DESC LIMIT $").Append(next).ToString();
    }
}
