using System.CommandLine;
using System.Text.Json;

namespace Conveyor.Cli.Commands;

/// <summary>What every paged <c>ls</c> shares: its <c>--limit</c> and <c>--cursor</c>, and a page printed as JSON or as a table with the command for the next one.</summary>
internal static class ListPage
{
    public static Option<int> Limit(string items) =>
        new("--limit") { Description = $"{items} per page, from 1 to the server's largest page (200 unless configured).", DefaultValueFactory = _ => 20 };

    public static Option<string?> Cursor() => new("--cursor") { Description = "The page after the one that printed this cursor." };

    /// <summary>The page size given, refused below 1 before any request.</summary>
    public static int Size(CommandContext context, Option<int> limit)
    {
        var size = context.Parsed.GetValue(limit);
        return size >= 1 ? size : throw new CliException(ExitCodes.Usage, $"--limit {size}: give a page size of 1 or more.");
    }

    /// <summary>The page's <paramref name="items"/> array as rows, then how to ask for the next page when there is one.</summary>
    public static int Print(
        CommandContext context,
        JsonElement page,
        string items,
        Func<JsonElement, JsonElement> row,
        (string Field, string Header)[] columns,
        string command)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(page);
            return ExitCodes.Ok;
        }

        context.Output.Table(page.GetProperty(items).EnumerateArray().Select(row), columns);
        if (page.TryGetProperty("next_cursor", out var next) && next.ValueKind == JsonValueKind.String)
        {
            context.Output.Line($"More: {command} --cursor {next.GetString()} (with the same filters)");
        }

        return ExitCodes.Ok;
    }
}
