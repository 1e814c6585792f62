using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Conveyor.Cli.Output;

/// <summary>
/// Writes answers as tables for people, or as the server's JSON, indented, for scripts (<c>--json</c>). Columns are
/// picked by name from the JSON, so a field the server adds later does not break the tool.
/// </summary>
internal sealed partial class CliOutput
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    // Wide enough for a job list's ids, types, queues, times and most of an error on one line; a script wanting it all takes --json.
    private const int RedirectedWidth = 240;

    // Cells of free text, cut to fit; every other cell is short and is kept whole on one line.
    private static readonly HashSet<string> FreeText = new(StringComparer.Ordinal) { "last_error", "message", "item", "result", "payload" };

    // A free-text column is never narrower than this: in a terminal too narrow for the rest, the row runs over rather than losing the error.
    private const int MinFreeTextWidth = 20;
    private readonly TextWriter _out;

    /// <param name="output">Tables and JSON.</param>
    /// <param name="error">Errors and progress.</param>
    /// <param name="json">The server's JSON instead of tables.</param>
    /// <param name="width">The terminal's width when the output is not <see cref="System.Console.Out"/> (tests); 240 when null and the output is redirected.</param>
    public CliOutput(TextWriter output, TextWriter error, bool json, int? width = null)
    {
        _out = output;
        Json = json;
        // A terminal gets colour, redrawing (conveyor dash) and its own width; redirected output (a pipe, a file, a
        // test) gets plain text and wide rows rather than wrapped cells.
        var terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            Console.Profile.Width = width ?? RedirectedWidth;
        }

        Errors = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(error),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
    }

    public bool Json { get; }

    public IAnsiConsole Console { get; }

    public IAnsiConsole Errors { get; }

    public void WriteJson(JsonElement element) => _out.WriteLine(JsonSerializer.Serialize(element, Indented));

    public void Line(string text) => _out.WriteLine(text);

    /// <summary>
    /// One row per element of <paramref name="items"/>, one column per name in <paramref name="columns"/> (absent fields
    /// are blank), one line per row: ids, states, queues and times are never wrapped or split (they are copied into the
    /// next command), and free text (an error message, a result) is cut with an ellipsis to the width the terminal leaves it.
    /// </summary>
    public void Table(IEnumerable<JsonElement> items, params (string Field, string Header)[] columns) => Table(items, wholeText: false, columns);

    /// <summary>As the other overload; with <paramref name="wholeText"/>, free text wraps instead of being cut (<c>jobs show</c>).</summary>
    public void Table(IEnumerable<JsonElement> items, bool wholeText, params (string Field, string Header)[] columns)
    {
        var free = columns.Select(c => FreeText.Contains(c.Field)).ToArray();
        var rows = items.Select(item => columns.Select((c, i) => free[i] ? (wholeText ? Whole(item, c.Field) : Text(item, c.Field)) : ToSeconds(Text(item, c.Field))).ToArray()).ToList();
        var widths = columns.Select((c, i) => rows.Select(r => r[i].GetCellWidth()).Append(c.Header.Length).Max()).ToArray();

        // What the other columns leave, shared by the free-text ones. With a cell padded by one space on its right, the
        // table takes a separator between columns, an edge at each side and that space: 2 per column and 1.
        var overhead = (2 * columns.Length) + 1;
        var freeColumns = free.Count(f => f);
        var share = freeColumns == 0 ? 0 : Math.Max(MinFreeTextWidth, (Console.Profile.Width - overhead - widths.Where((_, i) => !free[i]).Sum()) / freeColumns);

        var table = new Table().Border(TableBorder.Simple);
        for (var i = 0; i < columns.Length; i++)
        {
            var column = new TableColumn(columns[i].Header) { Padding = new Padding(0, 0, 1, 0), NoWrap = !(free[i] && wholeText) };
            if (free[i])
            {
                widths[i] = Math.Min(widths[i], share);
                column.Width = wholeText ? null : widths[i];
            }

            table.AddColumn(column);
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select((cell, i) => (IRenderable)new Text(free[i] && !wholeText ? Ellipsize(cell, widths[i]) : cell)).ToArray());
        }

        // A terminal too narrow for the ids, states and times gets rows longer than its width rather than an id split
        // in two (Spectre shrinks every column of a table wider than the console, splitting the cells).
        var width = Console.Profile.Width;
        Console.Profile.Width = Math.Max(width, overhead + widths.Sum());
        try
        {
            Console.Write(table);
        }
        finally
        {
            Console.Profile.Width = width;
        }
    }

    /// <summary>An RFC 3339 time to the second (<c>2026-12-06T12:35:20.829650Z</c> as <c>2026-12-06T12:35:20Z</c>): a table has no room for the fraction; --json keeps it.</summary>
    private static string ToSeconds(string cell) => FractionOfASecond().Replace(cell, "$1$2");

    [GeneratedRegex(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+(Z|[+-]\d\d:\d\d)$", RegexOptions.CultureInvariant)]
    private static partial Regex FractionOfASecond();

    /// <summary>Two columns: each field of <paramref name="item"/> named in <paramref name="fields"/>, and its value.</summary>
    public void Fields(JsonElement item, params (string Field, string Label)[] fields)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        foreach (var (field, label) in fields)
        {
            if (item.TryGetProperty(field, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                // A payload or a result is shown whole here (jobs show): the grid wraps it, a table's cell would cut it.
                grid.AddRow(new Text(label), new Text(FreeText.Contains(field) ? Whole(item, field) : Format(value)));
            }
        }

        Console.Write(grid);
    }

    /// <summary>The field as it is, line breaks included (<c>jobs show</c>: an error message whole).</summary>
    private static string Whole(JsonElement item, string field) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty(field, out var value) ? value.ValueKind == JsonValueKind.String ? value.GetString()! : value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? "" : value.GetRawText() : "";

    /// <summary><paramref name="text"/> in <paramref name="width"/> cells at most, ending in an ellipsis when cut.</summary>
    internal static string Ellipsize(string text, int width)
    {
        if (text.GetCellWidth() <= width)
        {
            return text;
        }

        var cut = new System.Text.StringBuilder();
        var used = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var cells = rune.ToString().GetCellWidth();
            if (used + cells > width - 1)
            {
                break;
            }

            cut.Append(rune.ToString());
            used += cells;
        }

        return cut.Append('…').ToString();
    }

    public static string Text(JsonElement item, string field) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty(field, out var value) ? Format(value) : "";

    private static string Format(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Shorten(value.GetString()!),
        JsonValueKind.Number => value.TryGetInt64(out var n) ? n.ToString("N0", CultureInfo.InvariantCulture) : value.GetDouble().ToString("0.###", CultureInfo.InvariantCulture),
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(Format)),
        _ => Shorten(value.GetRawText()),
    };

    // A table cell stays on one line: a long error message or payload would push every other column off screen.
    private static string Shorten(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= 120 ? line : line[..119] + "…";
    }
}
