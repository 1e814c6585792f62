using System.CommandLine;
using Conveyor.Cli.Output;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor jobs signal &lt;job-id&gt; &lt;name&gt; --payload</c>: delivers a signal to a job (POST /jobs/{id}/signals/{name}).</summary>
internal static class JobSignalCommand
{
    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var id = new Argument<string>("job-id") { Description = "The job's id." };
        var name = new Argument<string>("name") { Description = "The signal's name, e.g. approved." };
        var payload = new Option<string>("--payload") { Description = "The payload as JSON, or @file to read it from a file (@- for standard input).", DefaultValueFactory = _ => "null" };
        var tenant = new Option<string?>("--tenant") { Description = "Admin keys: the job's tenant, when it is not the key's own." };
        var command = new Command("signal", "Deliver a signal to a job: a job waiting for it runs again at once; one that has not reached its wait gets it there.") { id, name, payload, tenant };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var json = await JobsCommand.ReadPayloadAsync(context.Parsed.GetValue(payload)!, context.Environment, cancellationToken).ConfigureAwait(false);
            var path = $"/jobs/{CommandRunner.Segment(context.Parsed.GetValue(id)!)}/signals/{CommandRunner.Segment(context.Parsed.GetValue(name)!)}{JobFilter.TenantQuery(context.Parsed.GetValue(tenant))}";
            var job = await context.Api.PostAsync(path, json.GetRawText(), cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(job);
            }
            else
            {
                context.Output.Line($"{CliOutput.Text(job, "job_id")} {CliOutput.Text(job, "status")}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
