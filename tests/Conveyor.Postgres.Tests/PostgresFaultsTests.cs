using Npgsql;

namespace Conveyor.Postgres.Tests;

public sealed class PostgresFaultsTests
{
    [Theory]
    [InlineData("40P01", "deadlock detected")]
    [InlineData("40001", "could not serialize access due to concurrent update")]
    public void Conflict_IsTriedAgain_AndSaysItWasAConflictNotAnOutage(string sqlState, string message)
    {
        var conflict = new PostgresException(message, "ERROR", "ERROR", sqlState);

        Assert.True(PostgresFaults.IsUnavailable(conflict));
        var wrapped = PostgresFaults.Wrap(conflict);
        Assert.StartsWith("PostgreSQL rolled the transaction back after a conflict with another one", wrapped.Message, StringComparison.Ordinal);
        Assert.Same(conflict, wrapped.InnerException);
    }

    [Fact]
    public void ServerShuttingDown_IsAnOutage()
    {
        var shutdown = new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01");

        Assert.True(PostgresFaults.IsUnavailable(shutdown));
        Assert.StartsWith("PostgreSQL could not be reached or did not answer", PostgresFaults.Wrap(shutdown).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("57014", "canceling statement due to statement timeout")]
    [InlineData("55P03", "canceling statement due to lock timeout")]
    public void TimeoutOfABusyServer_IsAnOutage_SoABatchIsTriedAgainWhole(string sqlState, string message) =>
        Assert.True(PostgresFaults.IsUnavailable(new PostgresException(message, "ERROR", "ERROR", sqlState)));

    /// <summary>
    /// An outside run: a multi-host connection string without Target Session Attributes=primary reached the standby
    /// while the primary was down; 122 of 126 creates answered 500, and refused progress and acknowledgements ran 36 jobs
    /// twice.
    /// </summary>
    [Fact]
    public void AReadOnlyServer_AsAStandbyReachedDuringAFailover_IsAnOutage_AndItsIdleConnectionsAreDropped()
    {
        var readOnly = new PostgresException("cannot execute INSERT in a read-only transaction", "ERROR", "ERROR", "25006");

        Assert.True(PostgresFaults.IsUnavailable(readOnly));
        Assert.True(PostgresFaults.MayLeaveIdleConnectionsBroken(readOnly));
        Assert.StartsWith("PostgreSQL is read-only: a standby, or a primary demoted by a failover", PostgresFaults.Wrap(readOnly).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("XX000", "could not write init file")]
    [InlineData("58030", "could not write to file \"base/16384/2619\": No space left on device")]
    [InlineData("53100", "could not extend file \"base/16384/16500\": No space left on device")]
    public void TheServersOwnFailure_AsOfAFullDisk_IsAnOutage_NotTheStatementsFault(string sqlState, string message)
    {
        var failure = new PostgresException(message, "FATAL", "FATAL", sqlState);

        Assert.True(PostgresFaults.IsUnavailable(failure));
        Assert.StartsWith("PostgreSQL could not be reached or did not answer", PostgresFaults.Wrap(failure).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("42P01", "relation \"conveyor.jobs\" does not exist")]
    [InlineData("3F000", "schema \"conveyor\" does not exist")]
    public void MissingTableOrSchema_IsUnavailable_AndSaysTheSchemaIsMissing(string sqlState, string message)
    {
        var missing = new PostgresException(message, "ERROR", "ERROR", sqlState);

        Assert.True(PostgresFaults.IsUnavailable(missing));
        var wrapped = PostgresFaults.Wrap(missing);
        Assert.StartsWith($"The Conveyor schema is missing from the database ({message}): the migrations were not applied", wrapped.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relation \"taken\" does not exist")]
    [InlineData("relation \"jobs\" does not exist")]
    public void AnUnqualifiedMissingRelation_IsAStatementsDefect_NotAnOutage(string message) =>
        Assert.False(PostgresFaults.IsUnavailable(new PostgresException(message, "ERROR", "ERROR", "42P01")));

    [Fact]
    public void ConstraintViolation_IsTheQuerysOwnFault_NotTriedAgain() =>
        Assert.False(PostgresFaults.IsUnavailable(new PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505")));
}
