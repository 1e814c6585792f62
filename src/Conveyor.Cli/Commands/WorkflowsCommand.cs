using System.CommandLine;
using System.Text.Json;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor workflows show</c>: a workflow's status and each step's job, status and dependencies; <c>conveyor workflows ls</c>: the tenant's workflows.</summary>
internal static class WorkflowsCommand
{
    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var workflows = new Command("workflows", "DAG workflows of named steps (POST /workflows or IWorkflowClient.StartWorkflowAsync).");
        var id = new Argument<string>("workflow-id") { Description = "The workflow's id (batch_ and 32 hex digits)." };
        var tenant = new Option<string?>("--tenant") { Description = "Admin keys: the workflow's tenant, when it is not the key's own." };
        var show = new Command("show", "A workflow: its status and progress, then each step with its job, status and the steps it runs after.") { id, tenant };
        CommandRunner.SetAction(show, options, environment, async (context, cancellationToken) =>
        {
            var path = $"/workflows/{CommandRunner.Segment(context.Parsed.GetValue(id)!)}{JobFilter.TenantQuery(context.Parsed.GetValue(tenant))}";
            var workflow = await context.Api.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(workflow);
                return ExitCodes.Ok;
            }

            // One grid, so that every value starts in the same column, with what batches show gives of the batch behind it.
            context.Output.Fields(
                BatchListCommand.WithBatchFields(workflow),
                ("workflow_id", "workflow"), ("name", "name"), ("tenant", "tenant"), ("status", "status"), ("progress", "progress %"), ("total", "steps"),
                ("succeeded", "succeeded"), ("failed", "failed"), ("cancelled", "cancelled"), ("unfinished", "unfinished"), ("created_at", "created"),
                ("updated_at", "updated"), ("finished_at", "finished"));
            context.Output.Table(
                workflow.GetProperty("steps").EnumerateArray().Select(WithAfterList),
                ("name", "STEP"), ("status", "STATUS"), ("after_list", "AFTER"), ("job_id", "JOB"), ("type", "TYPE"), ("attempts", "ATTEMPTS"));
            return ExitCodes.Ok;
        });
        workflows.Subcommands.Add(show);
        workflows.Subcommands.Add(BatchListCommand.Create(
            "workflows",
            BatchListCommand.WithBatchFields,
            [("workflow_id", "WORKFLOW"), ("tenant", "TENANT"), ("name", "NAME"), ("status", "STATUS"), ("progress", "%"), ("steps", "STEPS"), ("created_at", "CREATED")],
            options,
            environment));
        return workflows;
    }

    /// <summary>The step with the names it runs after as one cell: <c>sales, costs</c>.</summary>
    private static JsonElement WithAfterList(JsonElement step)
    {
        var fields = step.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        fields["after_list"] = JsonSerializer.SerializeToElement(string.Join(", ", step.GetProperty("after").EnumerateArray().Select(a => a.GetString())));
        return JsonSerializer.SerializeToElement(fields);
    }
}
