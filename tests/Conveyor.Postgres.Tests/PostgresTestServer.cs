using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// The throwaway cluster that eng/services/postgres.sh starts: its connection string (CONVEYOR_TEST_POSTGRES),
/// and for the restart tests its bin and data directories. Missing or silent, it fails the tests in CI
/// (CI=true) and skips the PostgreSQL-only tests elsewhere.
/// </summary>
internal static class PostgresTestServer
{
    public const string ConnectionStringVariable = "CONVEYOR_TEST_POSTGRES";

    private static readonly Lazy<string?> UnavailableReasonValue = new(ProbeServer);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? ConnectionString => Environment.GetEnvironmentVariable(ConnectionStringVariable);

    public static string? BinDirectory => Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES_BIN");

    public static string? DataDirectory => Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES_DATA");

    /// <summary>Null when the server answers; otherwise why the tests cannot run.</summary>
    public static string? UnavailableReason => UnavailableReasonValue.Value;

    /// <summary>The connection string, or an exception that says how to start the server.</summary>
    public static string RequireConnectionString() =>
        UnavailableReason is { } reason ? throw new InvalidOperationException(reason) : ConnectionString!;

    private static string? ProbeServer()
    {
        var connectionString = ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return $"{ConnectionStringVariable} is not set: start the test cluster with `eval \"$(eng/services/postgres.sh start)\"`.";
        }

        try
        {
            using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5 }.ConnectionString);
            connection.Open();
            return null;
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            return $"PostgreSQL does not answer at {ConnectionStringVariable}={connectionString}: {exception.Message}";
        }
    }
}
