using System.CommandLine;
using System.Text;

namespace Conveyor.Cli.Commands;

/// <summary>The list filters of <c>GET /jobs</c> as options, shared by <c>jobs ls</c> and the bulk actions.</summary>
internal sealed class JobFilter
{
    public Option<string?> Status { get; } = new("--status") { Description = "Only jobs in this status (queued, scheduled, running, retrying, waiting, success, partial_success, failed, cancelled; waiting: for other jobs, as a workflow step or a continuation)." };

    public Option<string?> Type { get; } = new("--type") { Description = "Only jobs of this type, e.g. note:archive." };

    public Option<string?> Queue { get; } = new("--queue") { Description = "Only jobs on this queue." };

    public Option<string?> Error { get; } = new("--error") { Description = "Only jobs whose last error's message contains this text (case ignored)." };

    public Option<string?> CreatedAfter { get; } = new("--created-after") { Description = "Only jobs created at or after this RFC 3339 time, e.g. 2026-11-22T00:00:00Z." };

    public Option<string?> CreatedBefore { get; } = new("--created-before") { Description = "Only jobs created before this RFC 3339 time." };

    public Option<string?> Tenant { get; } = new("--tenant") { Description = "Admin keys: another tenant's jobs, or * for every tenant's." };

    public void AddTo(Command command)
    {
        command.Options.Add(Status);
        command.Options.Add(Type);
        command.Options.Add(Queue);
        command.Options.Add(Error);
        command.Options.Add(CreatedAfter);
        command.Options.Add(CreatedBefore);
        command.Options.Add(Tenant);
    }

    public bool IsEmpty(ParseResult parsed) => Values(parsed).All(f => f.Value is null);

    /// <summary>No filter but, perhaps, <c>--tenant</c>: with job ids it names their tenant rather than filtering.</summary>
    public bool IsEmptyBesidesTenant(ParseResult parsed) => Values(parsed).All(f => f.Value is null || f.Name == "tenant");

    /// <summary><c>?tenant=…</c> for a single-job request when <c>--tenant</c> names the job's tenant; empty otherwise.</summary>
    public string TenantQuery(ParseResult parsed) => TenantQuery(parsed.GetValue(Tenant));

    public static string TenantQuery(string? tenant) => tenant is null ? "" : "?tenant=" + Uri.EscapeDataString(tenant);

    /// <summary><c>/jobs?status=…&amp;type=…&amp;…&amp;limit=…</c>, with the cursor when there is one.</summary>
    public string Query(ParseResult parsed, int limit, string? cursor)
    {
        var query = new StringBuilder("/jobs?limit=").Append(limit);
        foreach (var (name, value) in Sent(parsed))
        {
            Append(query, name, value);
        }

        Append(query, "cursor", cursor);
        return query.ToString();
    }

    /// <summary>The filters given, as the <c>filter</c> object of <c>POST /jobs/bulk</c> (same names as the query).</summary>
    public Dictionary<string, string> Body(ParseResult parsed) =>
        Sent(parsed).Where(f => f.Value is not null).ToDictionary(f => f.Name, f => f.Value!);

    public string Describe(ParseResult parsed) =>
        string.Join(", ", Values(parsed).Where(f => f.Value is not null).Select(f => $"{f.Name.Replace('_', ' ')} {f.Value}"));

    private (string Name, string? Value)[] Values(ParseResult parsed) =>
    [
        ("status", parsed.GetValue(Status)), ("type", parsed.GetValue(Type)), ("queue", parsed.GetValue(Queue)), ("error", parsed.GetValue(Error)),
        ("created_after", parsed.GetValue(CreatedAfter)), ("created_before", parsed.GetValue(CreatedBefore)), ("tenant", parsed.GetValue(Tenant)),
    ];

    /// <summary>The filters as sent: <c>--status failed</c> becomes the API's <c>FAILED</c> (its enum is case-sensitive).</summary>
    private IEnumerable<(string Name, string? Value)> Sent(ParseResult parsed) =>
        Values(parsed).Select(f => f.Name == "status" ? (f.Name, f.Value?.ToUpperInvariant()) : f);

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (value is not null)
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
