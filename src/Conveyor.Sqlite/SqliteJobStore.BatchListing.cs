using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    // A keyset read on the index in page order: the tenant's batches, or those of one state (migration 0021), or every
    // tenant's (0022). The workflow filter is checked on the rows read. LIMIT @limit + 0, as ListJobs.sql: a bare LIMIT
    // @limit is read by the planner, so that every new page size would compile the statement again.
    private static readonly string[] ListBatchesStatements =
    [
        ListBatchesStatement("batches_created", string.Empty),
        ListBatchesStatement("batches_state_created", "state = @state AND "),
        ListBatchesStatement("batches_tenant_created", "tenant = @tenant AND "),
        ListBatchesStatement("batches_tenant_state_created", "tenant = @tenant AND state = @state AND "),
    ];

    /// <summary>The listing's statement for one tenant's batches or every tenant's, of one state or of all.</summary>
    internal static string ListBatchesSql(bool oneTenant, bool byState) => ListBatchesStatements[(oneTenant ? 2 : 0) + (byState ? 1 : 0)];

    private static string ListBatchesStatement(string index, string filters) => $"""
        SELECT id, tenant, state, total, succeeded, failed, cancelled, created_at, updated_at, finished_at, workflow
        FROM batches INDEXED BY {index}
        WHERE {filters}(created_at, id) < (@cursor_created_at, @cursor_id)
          AND (@workflows_only = 0 OR workflow IS NOT NULL)
        ORDER BY created_at DESC, id DESC LIMIT @limit + 0;
        """;

    /// <inheritdoc />
    public ValueTask<BatchPage> ListBatchesAsync(BatchQuery query, CancellationToken cancellationToken)
    {
        var cursor = BatchListing.Check(query) ?? new JobCursor(long.MaxValue, string.Empty);
        return ReadAsync((query, cursor), static (_, session, q) =>
        {
            var command = session.Command(ListBatchesSql(q.query.Tenant is not null, q.query.State is not null))
                .Bind("@cursor_created_at", q.cursor.CreatedAtUnixMicroseconds)
                .Bind("@cursor_id", q.cursor.JobId)
                .Bind("@workflows_only", q.query.WorkflowsOnly ? 1 : 0)
                .Bind("@limit", q.query.Limit + 1);
            if (q.query.Tenant is { } tenant)
            {
                command.Bind("@tenant", tenant);
            }

            if (q.query.State is { } state)
            {
                command.Bind("@state", state.ToStorageName());
            }

            var read = new List<BatchInfo>(Math.Min(q.query.Limit + 1, 128));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                read.Add(ReadBatchRow(reader));
            }

            return BatchListing.Page(read, q.query.Limit);
        }, cancellationToken);
    }
}
