namespace Conveyor.Docs.Tests.Snippets;

/// <summary>The markdown files whose C# blocks are compiled: README.md, docs/*.md and each src project's README.md.</summary>
public static class RepositoryDocs
{
    public static string Root { get; } = FindRoot();

    /// <summary>Paths relative to the repository root, with '/' separators.</summary>
    public static IReadOnlyList<string> Files { get; } =
        new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories))
            .Concat(Directory.GetDirectories(Path.Combine(Root, "src")).Select(d => Path.Combine(d, "README.md")).Where(File.Exists))
            .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    public static IReadOnlyList<Snippet> Snippets(string file) =>
        MarkdownSnippets.Parse(file, File.ReadAllText(Path.Combine(Root, file)));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Conveyor.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Conveyor.slnx above {AppContext.BaseDirectory}.");
    }
}
