using Microsoft.Extensions.Logging.Testing;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>The listening connection's outage lines carry the client's error text escaped, as every store error is.</summary>
public sealed class PostgresNotifierTests
{
    [PostgresFact]
    public async Task AnOutageThatLasts_LogsTheClientsErrorEscaped()
    {
        // What a server, a proxy or a driver could put in an error: a line break, a forged entry, a colour, a bidi override.
        const string Forged = "refused\nfail: Conveyor.Server.Processor[5] forged\r\u001b[31m\u202e";
        var application = "conveyor-notifier-" + Guid.NewGuid().ToString("N");
        var refusing = 0;
        var builder = new NpgsqlDataSourceBuilder(
            new NpgsqlConnectionStringBuilder(PostgresTestServer.RequireConnectionString()) { ApplicationName = application, Pooling = false }.ConnectionString);
        builder.UsePhysicalConnectionInitializer(
            _ => Refuse(),
            _ =>
            {
                Refuse();
                return Task.CompletedTask;
            });
        await using var dataSource = builder.Build();
        var logger = new FakeLogger();
        await using var notifier = new PostgresNotifier(dataSource, application + "_jobs", application + "_cancel", new WakeSignal(), TimeSpan.FromMilliseconds(10), logger);
        await notifier.StartAsync(CancellationToken.None);

        // Every connection from now on fails with the forged text; the listening one is cut.
        Volatile.Write(ref refusing, 1);
        await using (var admin = new NpgsqlConnection(PostgresTestServer.RequireConnectionString()))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", admin);
            terminate.Parameters.Add(new NpgsqlParameter { Value = application });
            await terminate.ExecuteNonQueryAsync();
        }

        await TestWait.UntilAsync(() => logger.Collector.GetSnapshot().Any(static r => r.Id.Id == 933), because: "log a failed reconnect");
        var stillLost = logger.Collector.GetSnapshot().First(static r => r.Id.Id == 933);
        Assert.Contains(@"refused\nfail: Conveyor.Server.Processor[5] forged\r\u001b[31m\u202e", stillLost.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(stillLost.Message, static c => char.IsControl(c) || c == '\u202e');

        void Refuse()
        {
            if (Volatile.Read(ref refusing) == 1)
            {
                throw new InvalidOperationException(Forged);
            }
        }
    }
}
