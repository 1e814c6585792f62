using System.Net.Sockets;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

/// <summary>
/// Decides which failures mean "the database cannot be reached or cannot answer now" and become a
/// <see cref="JobStoreUnavailableException"/>, so the server backs off and tries again. Errors that are the
/// query's own fault (a constraint, a syntax error, a missing table) are not transient and stay as they are.
/// </summary>
internal static class PostgresFaults
{
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException postgres => IsUnavailableState(postgres.SqlState),
        NpgsqlException => true,            // socket, protocol, timeout or pool exhausted: no answer from the server
        SocketException or IOException or TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// SQLSTATE classes that mean the server went away or is overloaded: 08 connection exception, 53 insufficient
    /// resources, 57P01–57P05 (shutdown, crash, cannot connect now, idle session timeout), 57014 and 55P03 (a
    /// statement_timeout or lock_timeout ran out: a busy server, not a wrong statement), 40001/40P01 (serialization
    /// failure, deadlock: try again).
    /// </summary>
    private static bool IsUnavailableState(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState is "57P01" or "57P02" or "57P03" or "57P04" or "57P05" or "57014" or "55P03"
        || IsConflict(sqlState);

    /// <summary>40001 serialization failure, 40P01 deadlock: the server answered, the transaction lost a race.</summary>
    public static bool IsConflict(string sqlState) => sqlState is "40001" or "40P01";

    public static JobStoreUnavailableException Wrap(Exception exception) =>
        exception is PostgresException postgres && IsConflict(postgres.SqlState)
            ? new($"PostgreSQL rolled the transaction back after a conflict with another one; it is tried again: {exception.Message}", exception)
            : new($"PostgreSQL could not be reached or did not answer: {exception.Message}", exception);
}
