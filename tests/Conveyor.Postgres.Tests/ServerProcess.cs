using System.Globalization;
using Conveyor.Server.Tests;

namespace Conveyor.Postgres.Tests;

/// <summary>Starts a real Conveyor.Server worker process on the test cluster, for crash and restart tests.</summary>
internal static class ServerProcess
{
    /// <summary>Conveyor.Server on the PostgreSQL store, in <paramref name="schema"/>, on a port of its own choosing.</summary>
    public static WorkerProcess Start(string schema, int concurrency = 4) => WorkerProcess.Start(Path.GetTempPath(), new Dictionary<string, string>
    {
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        ["Conveyor__Store"] = "postgres",
        ["Conveyor__Postgres__ConnectionString"] = PostgresTestSchema.ConnectionString,
        ["Conveyor__Postgres__Schema"] = schema,
        ["Conveyor__Server__Concurrency"] = concurrency.ToString(CultureInfo.InvariantCulture),
    });
}
