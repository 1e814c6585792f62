using System.CommandLine;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor jobs steps &lt;job-id&gt;</c>: a job's durable steps, signals and waits (GET /jobs/{id}/steps).</summary>
internal static class JobStepsCommand
{
    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var id = new Argument<string>("job-id") { Description = "The job's id." };
        var tenant = new Option<string?>("--tenant") { Description = "Admin keys: the job's tenant, when it is not the key's own." };
        var command = new Command("steps", "A job's durable steps with their results, the signals delivered to it and its waits' deadlines.") { id, tenant };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var path = $"/jobs/{CommandRunner.Segment(context.Parsed.GetValue(id)!)}/steps{JobFilter.TenantQuery(context.Parsed.GetValue(tenant))}";
            var steps = await context.Api.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(steps);
            }
            else
            {
                context.Output.Table(steps.GetProperty("steps").EnumerateArray(),
                    ("kind", "KIND"), ("name", "NAME"), ("attempt", "ATTEMPT"), ("completed_at", "AT"), ("timed_out", "TIMED OUT"), ("result", "RESULT"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
