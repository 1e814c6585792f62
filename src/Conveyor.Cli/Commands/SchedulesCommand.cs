using System.CommandLine;
using Conveyor.Cli.Output;

namespace Conveyor.Cli.Commands;

/// <summary>
/// <c>conveyor schedules ls|show|pause|resume|trigger</c>, for the API key's tenant, or with an admin key the one
/// <c>--tenant</c> names (<c>default</c> for schedules defined in code or configuration; <c>*</c> lists every tenant's).
/// </summary>
internal static class SchedulesCommand
{
    private static readonly (string, string)[] ListColumns =
    [
        ("tenant", "TENANT"), ("name", "SCHEDULE"), ("cron", "CRON"), ("time_zone", "TIME ZONE"), ("job_type", "TYPE"), ("paused", "PAUSED"),
        ("next_fire_times", "NEXT"), ("last_fire_at", "LAST FIRE"), ("last_job_status", "LAST JOB STATUS"), ("source", "SOURCE"),
    ];

    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var schedules = new Command("schedules", "List, show, pause, resume and trigger recurring schedules.");

        var listTenant = TenantOption("Admin keys: another tenant's schedules ('default' for those defined in code or configuration), or '*' for every tenant's.");
        var list = new Command("ls", "Every schedule with its next and last fire.") { listTenant };
        CommandRunner.SetAction(list, options, environment, async (context, cancellationToken) =>
        {
            var all = new List<System.Text.Json.JsonElement>();
            var tenant = context.Parsed.GetValue(listTenant);
            string? cursor = null;
            do
            {
                var page = await context.Api.GetAsync(
                    $"/schedules?limit=100{(tenant is null ? "" : "&tenant=" + Uri.EscapeDataString(tenant))}{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}",
                    cancellationToken).ConfigureAwait(false);
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
        var showTenant = TenantOption();
        var show = new Command("show", "A schedule's definition, next fires and last job.") { name, showTenant };
        CommandRunner.SetAction(show, options, environment, async (context, cancellationToken) =>
        {
            var path = $"/schedules/{CommandRunner.Segment(context.Parsed.GetValue(name)!)}{JobFilter.TenantQuery(context.Parsed.GetValue(showTenant))}";
            var schedule = await context.Api.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(schedule);
            }
            else
            {
                context.Output.Fields(
                    schedule,
                    ("name", "schedule"), ("tenant", "tenant"), ("cron", "cron"), ("time_zone", "time zone"), ("job_type", "type"), ("queue", "queue"), ("payload", "payload"),
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
        var tenant = TenantOption();
        var command = new Command(verb, description) { name, tenant };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var schedule = context.Parsed.GetValue(name)!;
            var path = $"/schedules/{CommandRunner.Segment(schedule)}/{verb}{JobFilter.TenantQuery(context.Parsed.GetValue(tenant))}";
            var answer = await context.Api.PostAsync(path, null, cancellationToken).ConfigureAwait(false);
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

    private static Option<string?> TenantOption(string description = "Admin keys: the schedule's tenant, when it is not the key's own ('default' for one defined in code or configuration).") =>
        new("--tenant") { Description = description };

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
