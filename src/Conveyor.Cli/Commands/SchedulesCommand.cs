using System.CommandLine;
using Conveyor.Cli.Output;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor schedules ls|show|pause|resume|trigger</c>, for the API key's tenant.</summary>
internal static class SchedulesCommand
{
    private static readonly (string, string)[] ListColumns =
    [
        ("name", "SCHEDULE"), ("cron", "CRON"), ("time_zone", "TIME ZONE"), ("job_type", "TYPE"), ("paused", "PAUSED"),
        ("next_fire_times", "NEXT"), ("last_fire_at", "LAST FIRE"), ("last_job_status", "LAST JOB"), ("source", "SOURCE"),
    ];

    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var schedules = new Command("schedules", "List, show, pause, resume and trigger recurring schedules.");

        var list = new Command("ls", "Every schedule with its next and last fire.");
        CommandRunner.SetAction(list, options, environment, async (context, cancellationToken) =>
        {
            var all = new List<System.Text.Json.JsonElement>();
            string? cursor = null;
            do
            {
                var page = await context.Api.GetAsync($"/schedules?limit=100{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}", cancellationToken).ConfigureAwait(false);
                all.AddRange(page.GetProperty("schedules").EnumerateArray());
                cursor = page.TryGetProperty("next_cursor", out var next) && next.ValueKind == System.Text.Json.JsonValueKind.String ? next.GetString() : null;
            }
            while (cursor is not null);

            if (context.Output.Json)
            {
                context.Output.WriteJson(System.Text.Json.JsonSerializer.SerializeToElement(new { schedules = all }));
            }
            else
            {
                context.Output.Table(all.Select(FirstNextFire), ListColumns);
            }

            return ExitCodes.Ok;
        });
        schedules.Subcommands.Add(list);

        var name = new Argument<string>("name") { Description = "The schedule's name." };
        var show = new Command("show", "A schedule's definition, next fires and last job.") { name };
        CommandRunner.SetAction(show, options, environment, async (context, cancellationToken) =>
        {
            var schedule = await context.Api.GetAsync($"/schedules/{CommandRunner.Segment(context.Parsed.GetValue(name)!)}", cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(schedule);
            }
            else
            {
                context.Output.Fields(
                    schedule,
                    ("name", "schedule"), ("cron", "cron"), ("time_zone", "time zone"), ("job_type", "type"), ("queue", "queue"), ("payload", "payload"),
                    ("misfire", "misfire"), ("overlap", "overlap"), ("paused", "paused"), ("next_fire_times", "next fires"), ("last_fire_at", "last fire"),
                    ("last_job_id", "last job"), ("last_job_status", "last job status"), ("source", "source"));
            }

            return ExitCodes.Ok;
        });
        schedules.Subcommands.Add(show);
        schedules.Subcommands.Add(Action("pause", "Stop firing until resumed.", options, environment));
        schedules.Subcommands.Add(Action("resume", "Fire again from the next tick.", options, environment));
        schedules.Subcommands.Add(Action("trigger", "Enqueue the schedule's job now, besides its ticks.", options, environment));
        return schedules;
    }

    private static Command Action(string verb, string description, GlobalOptions options, CliEnvironment environment)
    {
        var name = new Argument<string>("name") { Description = "The schedule's name." };
        var command = new Command(verb, description) { name };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var schedule = context.Parsed.GetValue(name)!;
            var answer = await context.Api.PostAsync($"/schedules/{CommandRunner.Segment(schedule)}/{verb}", null, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(answer);
            }
            else
            {
                context.Output.Line(verb == "trigger"
                    ? $"Schedule '{schedule}' triggered: job {CliOutput.Text(answer, "job_id")}"
                    : $"Schedule '{schedule}' {verb}d.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Only the next fire in the list's column; <c>show</c> prints all five.</summary>
    private static System.Text.Json.JsonElement FirstNextFire(System.Text.Json.JsonElement schedule)
    {
        if (!schedule.TryGetProperty("next_fire_times", out var next) || next.ValueKind != System.Text.Json.JsonValueKind.Array || next.GetArrayLength() < 2)
        {
            return schedule;
        }

        var fields = schedule.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        fields["next_fire_times"] = next[0];
        return System.Text.Json.JsonSerializer.SerializeToElement(fields);
    }
}
