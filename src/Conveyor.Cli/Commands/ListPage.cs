using System.CommandLine;
using System.CommandLine.Parsing;
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

    /// <summary>The page's <paramref name="items"/> array as rows, then the command for the next page when there is one.</summary>
    public static int Print(
        CommandContext context,
        JsonElement page,
        string items,
        Func<JsonElement, JsonElement> row,
        (string Field, string Header)[] columns)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(page);
            return ExitCodes.Ok;
        }

        context.Output.Table(page.GetProperty(items).EnumerateArray().Select(row), columns);
        if (page.TryGetProperty("next_cursor", out var next) && next.ValueKind == JsonValueKind.String)
        {
            context.Output.Line($"More: {NextPage(context.Parsed, next.GetString()!)}");
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// The command line for the next page, to paste as it is: this one's words with <c>--cursor</c> set to
    /// <paramref name="cursor"/>, each quoted for a POSIX shell where it needs it. The key given with <c>--api-key</c> is
    /// left out (printed, it would stay in the terminal's scrollback); the line then says to add it.
    /// </summary>
    internal static string NextPage(ParseResult parsed, string cursor)
    {
        var words = new List<string>();
        var keyGiven = false;
        var tokens = parsed.Tokens;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.Type == TokenType.Option && token.Value is "--cursor" or "--api-key")
            {
                keyGiven |= token.Value == "--api-key";

                // Its value is the next token.
                i++;
                continue;
            }

            words.Add(ShellWord(token.Value));
        }

        return $"conveyor {string.Join(' ', words)} --cursor {ShellWord(cursor)}" + (keyGiven ? " (and your --api-key)" : "");
    }

    private static string ShellWord(string word) =>
        word.Length > 0 && word.All(static c => char.IsAsciiLetterOrDigit(c) || "-_.,:/=@%+".Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
