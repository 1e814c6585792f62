using System.Net;
using System.Net.Sockets;

namespace Conveyor.Server.Tests;

/// <summary>The real server process with a setting or an environment that cannot work: exit code 1 and one clear line.</summary>
public sealed class StartupFailureTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-start-").FullName;

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Conveyor__Server__Concurrency", "-3", "Conveyor:Server:Concurrency must be between 1 and 10000; it is -3." },
        { "Conveyor__DefaultMaxRetry", "-1", "error: Conveyor:DefaultMaxRetry must be between 0 and 1000; it is -1." },
        { "Conveyor__MaxPayloadBytes", "0", "error: Conveyor:MaxPayloadBytes must be between 1 and 67108864; it is 0." },
        { "Conveyor__Store", "mongo", "Conveyor:Store is 'mongo'; it accepts one of: sqlite, redis, postgres, memory" },
        { "Conveyor__Server__ShutdownTimeout", "abc", "Conveyor:Server:ShutdownTimeout is 'abc'; it accepts a duration" },
        { "Conveyor__Server__Concurency", "5", "unknown setting Conveyor:Server:Concurency; did you mean Conveyor:Server:Concurrency?" },
        { "Conveyor__Redis__Configuratoin", "localhost:6379", "unknown setting Conveyor:Redis:Configuratoin; did you mean Conveyor:Redis:Configuration?" },
        { "Conveyor__Api__RateLimit__Burts", "10", "unknown setting Conveyor:Api:RateLimit:Burts; did you mean Conveyor:Api:RateLimit:Burst?" },
        { "Conveyor__Api__Keys__0__Tenat", "acme", "unknown setting Conveyor:Api:Keys:0:Tenat; did you mean Conveyor:Api:Keys:0:Tenant?" },
        { "Conveyor__Server__Queues__critical", "abc", "Conveyor:Server:Queues:critical is 'abc'; it accepts a whole number from 1 to 1000." },
        { "Conveyor__Server__StrictPriority", "maybe", "Conveyor:Server:StrictPriority is 'maybe'; it accepts true or false" },
        { "Logging__LogLevel__Default", "Loud", "Logging:LogLevel:Default is 'Loud'; it accepts one of: Trace, Debug, Information, Warning, Error, Critical, None." },
        { "ASPNETCORE_URLS", "http://0.0.0.0:0", "Conveyor:Api:Keys is empty" },
        { "Kestrel__Endpoints__Http__Url", "http://0.0.0.0:0", "Conveyor:Api:Keys is empty, so the Jobs API may listen on loopback addresses only, but Kestrel:Endpoints:Http:Url is http://0.0.0.0:0" },
        { "Kestrel__Endpoints__Secure__Url", "https://0.0.0.0:0", "Kestrel:Endpoints:Secure:Url is https://0.0.0.0:0" },
        { "Conveyor__Sqlite__Path", "/proc/conveyor-cannot-be-here/jobs.db", "the SQLite file /proc/conveyor-cannot-be-here/jobs.db cannot be created" },
        { "Conveyor__Sqlite__ConnectionString", "Data Sourc=/tmp/conveyor.db", "error: Conveyor:Sqlite:ConnectionString cannot be read" },
        { "Conveyor__Retention__JobTypes__email__send__Faild", "1.00:00:00", "unknown setting Conveyor:Retention:JobTypes:email:send:Faild; did you mean Conveyor:Retention:JobTypes:email:send:Failed?" },
        { "Conveyor__Samples__DataDirectory", "/proc/conveyor-cannot-be-here", "error: Conveyor:Samples:DataDirectory /proc/conveyor-cannot-be-here cannot be created" },
        { "ASPNETCORE_URLS", "http://127.0.0.1:99999", "'http://127.0.0.1:99999' is not an address to listen on: the port 99999 is not one from 0 to 65535" },
        { "ASPNETCORE_URLS", "notaurl", "'notaurl' is not an address to listen on" },
    };

    [Fact]
    public async Task PostgresConnectionStringThatCannotBeRead_StopsWithExitCode1_AndOneLineNamingIt()
    {
        var settings = new Dictionary<string, string> { ["Conveyor__Store"] = "postgres", ["Conveyor__Postgres__ConnectionString"] = "Hots=127.0.0.1;Database=x" };
        using var server = WorkerProcess.Start(_directory, settings);

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the server started anyway:\n" + server.Output);

        AssertOneLineFailure(server, "Conveyor:Postgres:ConnectionString cannot be read");
    }

    [Fact]
    public void ASettingsFileThatIsNotJson_IsOneLineNamingTheFileAndThePlace()
    {
        var failure = new InvalidDataException(
            "Failed to load configuration from file '/srv/conveyor/appsettings.json'.",
            new FormatException("Could not parse the JSON file. LineNumber: 3 | BytePositionInLine: 4."));

        Assert.Equal(
            "Failed to load configuration from file '/srv/conveyor/appsettings.json'. Could not parse the JSON file. LineNumber: 3 | BytePositionInLine: 4.",
            StartupFailure.Describe(failure));
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task BadSetting_StopsWithExitCode1_AndOneLineNamingIt(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"), [key] = value };
        using var server = WorkerProcess.Start(_directory, settings);

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the server started anyway:\n" + server.Output);

        AssertOneLineFailure(server, expected);
    }

    [Fact]
    public async Task KestrelEndpointOnAnotherAddress_WithoutKeys_IsRefusedBeforeTheServerListens()
    {
        var settings = new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"), ["Kestrel__Endpoints__Http__Url"] = "http://0.0.0.0:0" };
        using var server = WorkerProcess.Start(_directory, settings);

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the server started anyway:\n" + server.Output);

        AssertOneLineFailure(server, "Kestrel:Endpoints:Http:Url is http://0.0.0.0:0");
        Assert.DoesNotContain("listening on", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortInUse_StopsWithExitCode1_AndOneLineNamingTheAddress()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var address = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["ASPNETCORE_URLS"] = address, ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the server started anyway:\n" + server.Output);

        AssertOneLineFailure(server, $"Failed to bind to address {address}: address already in use");
        Assert.DoesNotContain("started on store", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreThatCannotBeReached_StopsAfterStoreStartTimeout_WithOneLine()
    {
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Store"] = "redis",
            ["Conveyor__Redis__Configuration"] = "127.0.0.1:1,connectTimeout=200",
            ["Conveyor__Server__StoreStartTimeout"] = "00:00:01",
        };
        using var server = WorkerProcess.Start(_directory, settings);

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the server started anyway:\n" + server.Output);

        AssertOneLineFailure(server, "store could not be opened within 1 s (Conveyor:Server:StoreStartTimeout");
    }

    [Fact]
    public async Task SqliteFileThatIsNotADatabase_StopsAtOnce_NotAfterStoreStartTimeout()
    {
        var path = Path.Combine(_directory, "notes.txt");
        await File.WriteAllTextAsync(path, new string('x', 4096));
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = path,
            ["Conveyor__Server__StoreStartTimeout"] = "00:10:00",
        };
        using var server = WorkerProcess.Start(_directory, settings);

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the server kept retrying:\n" + server.Output);

        AssertOneLineFailure(server, $"The SQLite file '{path}' is corrupt or is not a SQLite database.");
        Assert.Equal("x", (await File.ReadAllTextAsync(path)).Distinct().Single().ToString());
    }

    // An API without workers does not wait for its store to start, but it stopped retrying a store it cannot open and
    // answered every request 503 "try again shortly" until restarted (a black-box run, a Redis Cluster with a database
    // other than 0).
    [Fact]
    public async Task ApiRole_OnAStoreThatWaitingCannotHeal_StopsWithExitCode1_AndOneLineNamingIt()
    {
        var path = Path.Combine(_directory, "notes.txt");
        await File.WriteAllTextAsync(path, new string('x', 4096));
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Role"] = "api",
            ["Conveyor__Sqlite__Path"] = path,
        };
        using var server = WorkerProcess.Start(_directory, settings);

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the server kept running:\n" + server.Output);

        AssertOneLineFailure(server, $"The sqlite store cannot be opened: The SQLite file '{path}' is corrupt or is not a SQLite database.");
    }

    [Fact]
    public async Task SqlitePathThatIsADirectory_StopsAtOnce_NotAfterStoreStartTimeout()
    {
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = _directory,
            ["Conveyor__Server__StoreStartTimeout"] = "00:10:00",
        };
        using var server = WorkerProcess.Start(_directory, settings);

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the server kept retrying:\n" + server.Output);

        AssertOneLineFailure(server, $"The SQLite path '{_directory}' is a directory");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void AssertOneLineFailure(WorkerProcess server, string expected)
    {
        Assert.Equal(1, server.ExitCode);
        var line = Assert.Single(server.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
    }
}
