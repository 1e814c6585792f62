using System.CommandLine;
using System.Text;

namespace Conveyor.Cli.Commands;

/// <summary>The list filters of <c>GET /jobs</c> as options, shared by <c>jobs ls</c> and the bulk actions.</summary>
internal sealed class JobFilter
{
    public Option<string?> Status { get; } = new("--status") { Description = "Only jobs in this status (queued, scheduled, running, retrying, success, partial_success, failed, cancelled)." };

    public Option<string?> Type { get; } = new("--type") { Description = "Only jobs of this type, e.g. note:archive." };

    public Option<string?> Queue { get; } = new("--queue") { Description = "Only jobs on this queue." };

    public void AddTo(Command command)
    {
        command.Options.Add(Status);
        command.Options.Add(Type);
        command.Options.Add(Queue);
    }

    public bool IsEmpty(ParseResult parsed) =>
        parsed.GetValue(Status) is null && parsed.GetValue(Type) is null && parsed.GetValue(Queue) is null;

    /// <summary><c>/jobs?status=…&amp;type=…&amp;queue=…&amp;limit=…</c>, with the cursor when there is one.</summary>
    public string Query(ParseResult parsed, int limit, string? cursor)
    {
        var query = new StringBuilder("/jobs?limit=").Append(limit);
        Append(query, "status", parsed.GetValue(Status));
        Append(query, "type", parsed.GetValue(Type));
        Append(query, "queue", parsed.GetValue(Queue));
        Append(query, "cursor", cursor);
        return query.ToString();
    }

    public string Describe(ParseResult parsed) =>
        string.Join(", ", new[] { ("status", parsed.GetValue(Status)), ("type", parsed.GetValue(Type)), ("queue", parsed.GetValue(Queue)) }
            .Where(f => f.Item2 is not null).Select(f => $"{f.Item1} {f.Item2}"));

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (value is not null)
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
