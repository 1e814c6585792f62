using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Conveyor.Cli.Output;

/// <summary>
/// Writes answers as tables for people, or as the server's JSON, indented, for scripts (<c>--json</c>). Columns are
/// picked by name from the JSON, so a field the server adds later does not break the tool.
/// </summary>
internal sealed class CliOutput
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly TextWriter _out;

    public CliOutput(TextWriter output, TextWriter error, bool json)
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
            Console.Profile.Width = 240;
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

    /// <summary>One row per element of <paramref name="items"/>, one column per name in <paramref name="columns"/> (absent fields are blank).</summary>
    public void Table(IEnumerable<JsonElement> items, params (string Field, string Header)[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var (_, header) in columns)
        {
            table.AddColumn(new TableColumn(header));
        }

        foreach (var item in items)
        {
            table.AddRow(columns.Select(c => Markup.Escape(Text(item, c.Field))).ToArray());
        }

        Console.Write(table);
    }

    /// <summary>Two columns: each field of <paramref name="item"/> named in <paramref name="fields"/>, and its value.</summary>
    public void Fields(JsonElement item, params (string Field, string Label)[] fields)
    {
        var grid = new Grid().AddColumn().AddColumn();
        foreach (var (field, label) in fields)
        {
            if (item.TryGetProperty(field, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                grid.AddRow(Markup.Escape(label), Markup.Escape(Format(value)));
            }
        }

        Console.Write(grid);
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
        return line.Length <= 120 ? line : line[..117] + "...";
    }
}
