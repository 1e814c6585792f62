using System.CommandLine;
using System.Text.Json;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor servers ls</c>: the worker servers with a current heartbeat.</summary>
internal static class ServersCommand
{
    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var servers = new Command("servers", "The fleet's worker servers (an operator key).");
        var list = new Command("ls", "Every worker server with a current heartbeat: host, pid, queues, concurrency, running jobs.");
        CommandRunner.SetAction(list, options, environment, async (context, cancellationToken) =>
        {
            var answer = await context.Api.GetAsync("/servers", cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(answer);
                return ExitCodes.Ok;
            }

            context.Output.Table(
                answer.GetProperty("servers").EnumerateArray().Select(WithQueueList),
                ("id", "SERVER"), ("host", "HOST"), ("pid", "PID"), ("queue_list", "QUEUES (WEIGHT)"), ("running", "RUNNING"), ("concurrency", "CONCURRENCY"),
                ("started_at", "STARTED"), ("last_heartbeat_at", "LAST HEARTBEAT"));
            return ExitCodes.Ok;
        });
        servers.Subcommands.Add(list);
        return servers;
    }

    /// <summary>The server with its queues as one cell: <c>critical (6), default (3)</c>.</summary>
    internal static JsonElement WithQueueList(JsonElement server)
    {
        var fields = server.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        if (server.TryGetProperty("queues", out var queues) && queues.ValueKind == JsonValueKind.Object)
        {
            fields["queue_list"] = JsonSerializer.SerializeToElement(string.Join(", ", queues.EnumerateObject().Select(q => $"{q.Name} ({q.Value})")));
        }

        return JsonSerializer.SerializeToElement(fields);
    }
}
