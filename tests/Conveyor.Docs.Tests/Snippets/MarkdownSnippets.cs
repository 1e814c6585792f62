using System.Text.RegularExpressions;

namespace Conveyor.Docs.Tests.Snippets;

/// <summary>
/// Finds the C# blocks of a markdown file (fences marked <c>csharp</c>, <c>cs</c> or <c>c#</c>), with the
/// <c>&lt;!-- snippet: KIND --&gt;</c> comment that may precede each and the hidden <c>&lt;!-- snippet-context</c> blocks.
/// The conventions are described in this project's README.md.
/// </summary>
public static partial class MarkdownSnippets
{
    public static IReadOnlyList<Snippet> Parse(string path, string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var snippets = new List<Snippet>();
        (string Text, int Line)? directive = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (DirectiveLine().Match(line) is { Success: true } d)
            {
                directive = (d.Groups["directive"].Value, i + 1);
                continue;
            }

            if (ContextStart().IsMatch(line))
            {
                var end = FindEnd(lines, i + 1, ContextEnd(), path, i + 1, "snippet-context comment");
                snippets.Add(new Snippet(path, i + 2, SnippetKind.Context, "", false, string.Join('\n', lines[(i + 1)..end])));
                i = end;
                continue;
            }

            if (Fence().Match(line) is { Success: true } fence)
            {
                var end = FindEnd(lines, i + 1, FenceEnd(), path, i + 1, "code block");
                if (CSharp().IsMatch(fence.Groups["language"].Value))
                {
                    var indent = fence.Groups["indent"].Value.Length;
                    var code = string.Join('\n', lines[(i + 1)..end].Select(l => l.Length >= indent && string.IsNullOrWhiteSpace(l[..indent]) ? l[indent..] : l.TrimStart()));
                    snippets.Add(Describe(path, i + 2, directive, code));
                }
                else if (directive is { } stray)
                {
                    throw new FormatException($"{path}:{stray.Line}: a snippet comment must be followed by a C# block.");
                }

                directive = null;
                i = end;
                continue;
            }

            if (directive is { } orphan && !string.IsNullOrWhiteSpace(line))
            {
                throw new FormatException($"{path}:{orphan.Line}: a snippet comment must be followed by a C# block.");
            }
        }

        if (directive is { } last)
        {
            throw new FormatException($"{path}:{last.Line}: a snippet comment must be followed by a C# block.");
        }

        return snippets;
    }

    private static Snippet Describe(string path, int line, (string Text, int Line)? directive, string code)
    {
        if (directive is not { } d)
        {
            return new Snippet(path, line, SnippetKind.File, "", false, code);
        }

        var match = DirectiveGrammar().Match(d.Text);
        if (!match.Success)
        {
            throw new FormatException($"{path}:{d.Line}: '{d.Text}' is not a snippet kind: use file, program, members or method(parameters), optionally followed by 'web'.");
        }

        var kind = Enum.Parse<SnippetKind>(match.Groups["kind"].Value, ignoreCase: true);
        if (kind != SnippetKind.Method && match.Groups["parameters"].Success)
        {
            throw new FormatException($"{path}:{d.Line}: only 'method' takes parameters.");
        }

        return new Snippet(path, line, kind, match.Groups["parameters"].Value, match.Groups["web"].Success, code);
    }

    private static int FindEnd(string[] lines, int from, Regex end, string path, int startLine, string what)
    {
        for (var j = from; j < lines.Length; j++)
        {
            if (end.IsMatch(lines[j]))
            {
                return j;
            }
        }

        throw new FormatException($"{path}:{startLine}: the {what} is not closed.");
    }

    [GeneratedRegex(@"^\s*<!--\s*snippet:\s*(?<directive>.*?)\s*-->\s*$")]
    private static partial Regex DirectiveLine();

    [GeneratedRegex(@"^(?<kind>file|program|members|method)(?:\((?<parameters>.*)\))?(?<web>\s+web)?$")]
    private static partial Regex DirectiveGrammar();

    [GeneratedRegex(@"^\s*<!--\s*snippet-context\s*$")]
    private static partial Regex ContextStart();

    [GeneratedRegex(@"^\s*-->\s*$")]
    private static partial Regex ContextEnd();

    [GeneratedRegex(@"^(?<indent>\s*)```\s*(?<language>\S*)\s*$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*```\s*$")]
    private static partial Regex FenceEnd();

    [GeneratedRegex(@"^(csharp|cs|c#)$", RegexOptions.IgnoreCase)]
    private static partial Regex CSharp();
}
