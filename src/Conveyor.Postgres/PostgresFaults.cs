using System.Net.Sockets;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

/// <summary>
/// Decides which failures mean "the database cannot be reached or cannot answer now" and become a
/// <see cref="JobStoreUnavailableException"/>, so the server backs off and tries again and the API answers 503. Errors
/// that are the query's own fault (a constraint, a syntax error) are not transient and stay as they are. A missing
/// table or schema is not the query's fault either: the store names only its own tables, so their absence means the
/// database was replaced or the schema dropped under the running application, which an operator mends.
/// </summary>
internal static class PostgresFaults
{
    /// <summary>
    /// A failure of the connection itself (not of a statement): other idle connections of the pool may be broken too,
    /// as a server restart closes them all while they sit unused, and Npgsql does not look at them before lending one.
    /// </summary>
    /// <remarks>
    /// Not a timeout or an exhausted pool: those say the server is busy, and clearing the pool then would close every
    /// connection as it comes back, for reconnects on a server that is already overloaded.
    /// </remarks>
    public static bool MayLeaveIdleConnectionsBroken(Exception exception) => exception switch
    {
        // 25006: the connection is to a server that is read-only now (a standby, or a primary demoted by a failover): the
        // pool's other connections to it are no better, and new ones may reach the primary of a multi-host string.
        PostgresException { SqlState: var state } => state.StartsWith("08", StringComparison.Ordinal) || state is "57P01" or "57P02" or "57P03" or "25006",
        IOException or SocketException => true,
        { InnerException: { } inner } => MayLeaveIdleConnectionsBroken(inner),
        _ => false,
    };

    /// <summary>25006: the statement ran in a read-only transaction.</summary>
    public static bool IsReadOnly(Exception exception) => exception is PostgresException { SqlState: "25006" };

    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException postgres => IsUnavailableState(postgres.SqlState) || IsSchemaMissing(postgres),
        NpgsqlException => true,            // socket, protocol, timeout or pool exhausted: no answer from the server
        SocketException or IOException or TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// SQLSTATE classes that mean the server went away, is overloaded or failed in itself: 08 connection exception, 53
    /// insufficient resources, 57P01–57P05 (shutdown, crash, cannot connect now, idle session timeout), 57014 and 55P03 (a
    /// statement_timeout or lock_timeout ran out: a busy server, not a wrong statement), 40001/40P01 (serialization
    /// failure, deadlock: try again), 58 system error (an I/O error of the server's own files) and XX internal error
    /// (a full disk also shows as <c>XX000 could not write init file</c> at every new connection), and 25006 read-only
    /// transaction (a multi-host connection string without <c>Target Session Attributes=primary</c> reached a standby
    /// while the primary was down: a failover under way, not the statement's fault). None of these is the
    /// statement's fault: taken as the statement's own, an acknowledgement was dropped as refused and its job, whose
    /// handler had succeeded, ran again once its lease ran out.
    /// </summary>
    private static bool IsUnavailableState(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState.StartsWith("58", StringComparison.Ordinal)
        || sqlState.StartsWith("XX", StringComparison.Ordinal)
        || sqlState is "57P01" or "57P02" or "57P03" or "57P04" or "57P05" or "57014" or "55P03" or "25006"
        || IsConflict(sqlState);

    /// <summary>
    /// 3F000 invalid schema name, or 42P01 undefined table naming a schema-qualified table: the store's own tables are not
    /// there (any more). The store names its tables with their schema, always; a 42P01 of an unqualified name (a CTE or a
    /// table whose schema prefix a statement forgot) is a defect of a statement, which must surface, not be retried as an
    /// outage forever.
    /// </summary>
    public static bool IsSchemaMissing(PostgresException exception) =>
        exception.SqlState == "3F000"
        || (exception.SqlState == "42P01" && exception.MessageText.Contains('.', StringComparison.Ordinal));

    /// <summary>
    /// 42703 undefined column, 42883 undefined function, 42P01 undefined table, 42704 undefined object: a statement of
    /// this version names what the schema lacks. While this process is opening the store, that is a schema still to be
    /// migrated (an older database that the background opener has not reached yet, or a DBA applying the files);
    /// otherwise, a defect of the statement.
    /// </summary>
    public static bool IsSchemaBehind(Exception exception) =>
        exception is PostgresException { SqlState: "42703" or "42883" or "42P01" or "42704" };

    public static JobStoreUnavailableException SchemaBehind(Exception exception) =>
        new($"The Conveyor schema lacks what this version uses ({(exception as PostgresException)?.MessageText ?? exception.Message}): " +
            "its migrations are not applied yet. This process is opening the store: it applies them " +
            "(Conveyor:Postgres:ApplyMigrations, the default) or waits for them to be applied with psql; until then calls are tried again as in an outage.", exception);

    /// <summary>40001 serialization failure, 40P01 deadlock: the server answered, the transaction lost a race.</summary>
    public static bool IsConflict(string sqlState) => sqlState is "40001" or "40P01";

    public static JobStoreUnavailableException Wrap(Exception exception) => exception switch
    {
        PostgresException postgres when IsConflict(postgres.SqlState) =>
            new($"PostgreSQL rolled the transaction back after a conflict with another one; it is tried again: {exception.Message}", exception),
        PostgresException postgres when IsSchemaMissing(postgres) =>
            new($"The Conveyor schema is missing from the database ({postgres.MessageText}): the migrations were not applied, " +
                "or the database was replaced or the schema dropped under the running application. Restart it to apply them " +
                "(Conveyor:Postgres:ApplyMigrations, the default) or apply the SQL files with psql.", exception),
        PostgresException postgres when IsReadOnly(postgres) =>
            new($"PostgreSQL is read-only: a standby, or a primary demoted by a failover (list the hosts with Target Session Attributes=primary); it is tried again: {exception.Message}", exception),
        _ => new($"PostgreSQL could not be reached or did not answer: {exception.Message}", exception),
    };
}
