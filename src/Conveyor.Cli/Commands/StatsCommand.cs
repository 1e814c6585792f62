using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor stats</c>: jobs per status over every queue, and how many queues are paused or waiting for a server.</summary>
internal static class StatsCommand
{
    private static readonly string[] Statuses = ["scheduled", "queued", "waiting", "running", "retrying", "success", "partial_success", "failed", "cancelled"];

    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var command = new Command("stats", "Jobs per status across every queue (an operator key).");
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var answer = await context.Api.GetAsync("/queues", cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(answer);
                return ExitCodes.Ok;
            }

            var queues = answer.GetProperty("queues").EnumerateArray().ToList();
            var totals = Statuses.Select(s => (Status: s, Count: queues.Sum(q => q.TryGetProperty(s, out var n) && n.TryGetInt64(out var v) ? v : 0))).ToList();
            var rows = totals.Select(t => JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["status"] = t.Status, ["jobs"] = t.Count }));
            context.Output.Table(rows, ("status", "STATUS"), ("jobs", "JOBS"));
            var paused = queues.Count(q => q.TryGetProperty("paused", out var p) && p.ValueKind == JsonValueKind.True);
            var unserved = queues.Count(q => q.TryGetProperty("servers", out var s) && s.TryGetInt32(out var n) && n == 0);
            context.Output.Line(string.Create(CultureInfo.InvariantCulture, $"{queues.Count} queue(s), {paused} paused, {unserved} without a live server."));
            return ExitCodes.Ok;
        });
        return command;
    }
}
