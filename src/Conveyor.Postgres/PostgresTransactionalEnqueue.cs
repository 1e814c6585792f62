using System.Data.Common;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

/// <summary>
/// Enqueue a job in the application's own transaction: the job exists if and only if the transaction commits, and
/// workers are woken only when it commits.
/// <code>
/// await using var tx = await connection.BeginTransactionAsync(ct);
/// await InsertOrderAsync(connection, tx, order, ct);
/// await connection.EnqueueJobAsync(tx, store, client.CreateJob(new SendReceipt(order.Id)), ct);
/// await tx.CommitAsync(ct);
/// </code>
/// With EF Core: <c>db.Database.GetDbConnection().EnqueueJobAsync(db.Database.CurrentTransaction?.GetDbTransaction(), store, job, ct)</c>.
/// </summary>
public static class PostgresTransactionalEnqueue
{
    /// <summary>Enqueues <paramref name="job"/> on <paramref name="connection"/> inside <paramref name="transaction"/>.</summary>
    public static Task<EnqueueResult> EnqueueJobAsync(
        this NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        PostgresJobStore store,
        NewJob job,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.EnqueueAsync(connection, transaction, job, cancellationToken);
    }

    /// <summary>
    /// Enqueues <paramref name="job"/> on a connection and transaction typed as their ADO.NET bases, as EF Core
    /// (<c>Database.GetDbConnection()</c>, <c>CurrentTransaction.GetDbTransaction()</c>) and Dapper hand them out.
    /// They must be Npgsql's.
    /// </summary>
    public static Task<EnqueueResult> EnqueueJobAsync(
        this DbConnection connection,
        DbTransaction? transaction,
        PostgresJobStore store,
        NewJob job,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var (npgsqlConnection, npgsqlTransaction) = AsNpgsql(connection, transaction);
        return store.EnqueueAsync(npgsqlConnection, npgsqlTransaction, job, cancellationToken);
    }

    /// <summary>
    /// Stores every job of <paramref name="jobs"/> or none (a fan-out's jobs, <c>IEventPublisher.CreateJobs</c>) on
    /// <paramref name="connection"/> inside <paramref name="transaction"/>: they exist if and only if the transaction
    /// commits. A refusal leaves the transaction usable.
    /// </summary>
    public static Task<EnqueueAllResult> EnqueueAllOrNoneAsync(
        this NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        PostgresJobStore store,
        IReadOnlyList<NewJob> jobs,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.EnqueueAllOrNoneAsync(connection, transaction, jobs, cancellationToken);
    }

    /// <summary>
    /// <see cref="EnqueueAllOrNoneAsync(NpgsqlConnection, NpgsqlTransaction?, PostgresJobStore, IReadOnlyList{NewJob}, CancellationToken)"/>
    /// on a connection and transaction typed as their ADO.NET bases (EF Core, Dapper). They must be Npgsql's.
    /// </summary>
    public static Task<EnqueueAllResult> EnqueueAllOrNoneAsync(
        this DbConnection connection,
        DbTransaction? transaction,
        PostgresJobStore store,
        IReadOnlyList<NewJob> jobs,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var (npgsqlConnection, npgsqlTransaction) = AsNpgsql(connection, transaction);
        return store.EnqueueAllOrNoneAsync(npgsqlConnection, npgsqlTransaction, jobs, cancellationToken);
    }

    /// <summary>
    /// Starts a batch (as <see cref="IWorkflowClient.StartBatchAsync"/>: its jobs, its callbacks, its record) on
    /// <paramref name="connection"/> inside <paramref name="transaction"/>: all of it exists if and only if the
    /// transaction commits, and its jobs become runnable at the commit. A refusal leaves the transaction usable.
    /// </summary>
    public static async Task<BatchEnqueueResult> StartBatchAsync(
        this DbConnection connection,
        DbTransaction? transaction,
        PostgresJobStore store,
        IReadOnlyList<NewJob> jobs,
        BatchOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var (npgsqlConnection, npgsqlTransaction) = AsNpgsql(connection, transaction);
        var plan = BatchPlan.ForBatch(jobs, options);
        var result = await store.CreateBatchAsync(npgsqlConnection, npgsqlTransaction, plan.Batch, plan.Jobs, cancellationToken).ConfigureAwait(false);
        return new BatchEnqueueResult(plan.Batch.Id, result);
    }

    /// <summary>
    /// Starts a DAG workflow (as <see cref="IWorkflowClient.StartWorkflowAsync"/>) on <paramref name="connection"/>
    /// inside <paramref name="transaction"/>: every step exists if and only if the transaction commits, and the first
    /// steps become runnable at the commit. A refusal leaves the transaction usable.
    /// </summary>
    public static async Task<WorkflowEnqueueResult> StartWorkflowAsync(
        this DbConnection connection,
        DbTransaction? transaction,
        PostgresJobStore store,
        WorkflowBuilder workflow,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var (npgsqlConnection, npgsqlTransaction) = AsNpgsql(connection, transaction);
        var plan = BatchPlan.ForWorkflow(workflow);
        var result = await store.CreateBatchAsync(npgsqlConnection, npgsqlTransaction, plan.Batch, plan.Jobs, cancellationToken).ConfigureAwait(false);
        return new WorkflowEnqueueResult(plan.Batch.Id, result, plan.StepJobIds!);
    }

    /// <summary>The Npgsql objects behind the ADO.NET base types EF Core and Dapper hand out; anything else is refused.</summary>
    private static (NpgsqlConnection Connection, NpgsqlTransaction? Transaction) AsNpgsql(DbConnection connection, DbTransaction? transaction)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection is not NpgsqlConnection npgsqlConnection)
        {
            throw new ArgumentException($"The connection is a {connection.GetType().Name}; transactional enqueue needs an NpgsqlConnection.", nameof(connection));
        }

        if (transaction is not null and not NpgsqlTransaction)
        {
            throw new ArgumentException($"The transaction is a {transaction.GetType().Name}; transactional enqueue needs an NpgsqlTransaction.", nameof(transaction));
        }

        return (npgsqlConnection, transaction as NpgsqlTransaction);
    }
}
