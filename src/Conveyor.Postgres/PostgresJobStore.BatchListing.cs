using System.Text;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    /// <inheritdoc />
    public async ValueTask<BatchPage> ListBatchesAsync(BatchQuery query, CancellationToken cancellationToken)
    {
        var cursor = BatchListing.Check(query);

        var parameters = new List<NpgsqlParameter> { Text(query.Tenant) };
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
        var sql = ListBatchesSql(_options.Schema, query.State is not null, query.WorkflowsOnly, cursor is not null);

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
        catch (Exception exception) when (PostgresFaults.IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <summary>
    /// The listing's statement: $1 the tenant, then the state when <paramref name="byState"/>, the cursor's time and id
    /// when <paramref name="afterCursor"/>, and the page size plus one. Only the filters in use appear in the text, so
    /// that each combination gets its own plan on the index in page order that fits it (migration 0030): (tenant,
    /// created_at DESC, id DESC), or with the state after the tenant.
    /// </summary>
    internal static string ListBatchesSql(string schema, bool byState, bool workflowsOnly, bool afterCursor)
    {
        var sql = new StringBuilder("SELECT id, tenant, state, total, succeeded, failed, cancelled, created_at, updated_at, finished_at, workflow FROM ")
            .Append(PostgresSchemaName.Quote(schema)).Append(".batches WHERE tenant = $1");
        var next = 2;
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
