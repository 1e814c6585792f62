using System.CommandLine;
using System.Text.Json;

namespace Conveyor.Cli.Commands;

/// <summary>
/// <c>conveyor batches ls</c> and <c>conveyor workflows ls</c>: a tenant's (or every tenant's) batches or workflows, newest first, a page at a
/// time (<c>GET /batches</c>, <c>GET /workflows</c>: the same listing, workflows being batches with a definition).
/// </summary>
internal static class BatchListCommand
{
    /// <summary>The <c>ls</c> of <paramref name="resource"/> (<c>batches</c> or <c>workflows</c>: the API's path and the page's array), each item shown as <paramref name="row"/> makes it, in <paramref name="columns"/>.</summary>
    public static Command Create(
        string resource,
        Func<JsonElement, JsonElement> row,
        (string Field, string Header)[] columns,
        GlobalOptions options,
        CliEnvironment environment)
    {
        var status = new Option<string?>("--status") { Description = "Only those in this status (running, success, completed, cancelled)." };
        var tenant = new Option<string?>("--tenant") { Description = "Admin keys: the tenant to list, when it is not the key's own, or * for every tenant's." };
        var limit = ListPage.Limit(char.ToUpperInvariant(resource[0]) + resource[1..]);
        var cursor = ListPage.Cursor();
        var command = new Command("ls", $"The tenant's {resource}, newest first, a page at a time.") { status, tenant, limit, cursor };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var size = ListPage.Size(context, limit);

            // The API's status enum is upper case and case-sensitive, as for jobs.
            var query = new List<string> { $"limit={size}" };
            AddQuery(query, "status", context.Parsed.GetValue(status)?.ToUpperInvariant());
            AddQuery(query, "tenant", context.Parsed.GetValue(tenant));
            AddQuery(query, "cursor", context.Parsed.GetValue(cursor));
            var page = await context.Api.GetAsync($"/{resource}?{string.Join('&', query)}", cancellationToken).ConfigureAwait(false);
            return ListPage.Print(context, page, resource, row, columns);
        });
        return command;
    }

    /// <summary>A workflow's row: its batch's progress and times beside its own fields.</summary>
    public static JsonElement WithBatchFields(JsonElement workflow)
    {
        var fields = workflow.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        foreach (var field in workflow.GetProperty("batch").EnumerateObject())
        {
            fields.TryAdd(field.Name, field.Value);
        }

        return JsonSerializer.SerializeToElement(fields);
    }

    private static void AddQuery(List<string> query, string name, string? value)
    {
        if (value is not null)
        {
            query.Add($"{name}={Uri.EscapeDataString(value)}");
        }
    }
}
