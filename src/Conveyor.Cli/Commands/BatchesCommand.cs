using System.CommandLine;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor batches show</c>: a batch's status, counts and progress; <c>conveyor batches ls</c>: the tenant's batches.</summary>
internal static class BatchesCommand
{
    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var batches = new Command("batches", "Batches of jobs with callbacks (POST /batches or IWorkflowClient.StartBatchAsync).");
        var id = new Argument<string>("batch-id") { Description = "The batch's id (batch_ and 32 hex digits)." };
        var tenant = new Option<string?>("--tenant") { Description = "Admin keys: the batch's tenant, when it is not the key's own." };
        var show = new Command("show", "A batch: status, counts by outcome and progress.") { id, tenant };
        CommandRunner.SetAction(show, options, environment, async (context, cancellationToken) =>
        {
            var path = $"/batches/{CommandRunner.Segment(context.Parsed.GetValue(id)!)}{JobFilter.TenantQuery(context.Parsed.GetValue(tenant))}";
            var batch = await context.Api.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(batch);
                return ExitCodes.Ok;
            }

            context.Output.Fields(
                batch,
                ("batch_id", "batch"), ("tenant", "tenant"), ("status", "status"), ("progress", "progress %"), ("total", "jobs"), ("succeeded", "succeeded"),
                ("failed", "failed"), ("cancelled", "cancelled"), ("unfinished", "unfinished"), ("workflow_name", "workflow"), ("created_at", "created"),
                ("updated_at", "updated"), ("finished_at", "finished"));
            return ExitCodes.Ok;
        });
        batches.Subcommands.Add(show);
        batches.Subcommands.Add(BatchListCommand.Create(
            "batches",
            static batch => batch,
            [("batch_id", "BATCH"), ("tenant", "TENANT"), ("status", "STATUS"), ("progress", "%"), ("total", "JOBS"), ("succeeded", "SUCCEEDED"), ("failed", "FAILED"),
             ("cancelled", "CANCELLED"), ("workflow_name", "WORKFLOW"), ("created_at", "CREATED")],
            options,
            environment));
        return batches;
    }
}
