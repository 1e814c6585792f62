using System.CommandLine;
using Conveyor.Cli.Output;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor queues ls|pause|resume</c>.</summary>
internal static class QueuesCommand
{
    private static readonly (string, string)[] Columns =
    [
        ("name", "QUEUE"), ("paused", "PAUSED"), ("queued", "QUEUED"), ("scheduled", "SCHEDULED"), ("waiting", "WAITING"), ("running", "RUNNING"),
        ("retrying", "RETRYING"), ("success", "SUCCEEDED"), ("partial_success", "PARTIAL"), ("failed", "FAILED"), ("cancelled", "CANCELLED"),
        ("servers", "SERVERS"), ("latency_seconds", "LATENCY (S)"),
    ];

    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var queues = new Command("queues", "List, pause and resume queues (an operator key).");

        var list = new Command("ls", "Every queue with its jobs per status, servers and latency.");
        CommandRunner.SetAction(list, options, environment, async (context, cancellationToken) =>
        {
            var answer = await context.Api.GetAsync("/queues", cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(answer);
            }
            else
            {
                context.Output.Table(answer.GetProperty("queues").EnumerateArray(), Columns);
            }

            return ExitCodes.Ok;
        });
        queues.Subcommands.Add(list);
        queues.Subcommands.Add(SetPaused("pause", "Stop workers from taking the queue's jobs (enqueues still succeed).", options, environment));
        queues.Subcommands.Add(SetPaused("resume", "Let workers take the queue's jobs again.", options, environment));
        return queues;
    }

    private static Command SetPaused(string verb, string description, GlobalOptions options, CliEnvironment environment)
    {
        var name = new Argument<string>("queue") { Description = "The queue's name." };
        var command = new Command(verb, description) { name };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var queue = context.Parsed.GetValue(name)!;
            var answer = await context.Api.PostAsync($"/queues/{CommandRunner.Segment(queue)}/{verb}", null, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(answer);
            }
            else
            {
                context.Output.Line($"Queue '{queue}' {(verb == "pause" ? "paused" : "resumed")}: {CliOutput.Text(answer, "queued")} queued, {CliOutput.Text(answer, "running")} running.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
