using Conveyor.Docs.Tests.Snippets;

namespace Conveyor.Docs.Tests;

/// <summary>Every C# block of the docs compiles, so the guide cannot drift from the code it describes.</summary>
public sealed class DocSnippetsTests
{
    public static TheoryData<string> DocsWithSnippets()
    {
        var data = new TheoryData<string>();
        foreach (var file in FilesWithSnippets())
        {
            data.Add(file);
        }

        return data;
    }

    private static List<string> FilesWithSnippets() => RepositoryDocs.Files.Where(f => RepositoryDocs.Snippets(f).Count > 0).ToList();

    [Theory]
    [MemberData(nameof(DocsWithSnippets))]
    public void Snippets_Compile(string file)
    {
        var errors = SnippetCompiler.Compile(RepositoryDocs.Snippets(file));

        Assert.True(errors.Count == 0, $"The C# blocks of {file} do not compile:\n{string.Join('\n', errors)}");
    }

    [Fact]
    public void Docs_IncludeTheReadmeTheGuideAndEveryDocsPage()
    {
        var withSnippets = FilesWithSnippets();

        Assert.Contains("README.md", withSnippets);
        Assert.Contains("docs/async-jobs.md", withSnippets);
        Assert.Contains("docs/postgres.md", withSnippets);
        Assert.All(Directory.GetFiles(Path.Combine(RepositoryDocs.Root, "docs"), "*.md"), f =>
            Assert.Contains(Path.GetRelativePath(RepositoryDocs.Root, f).Replace('\\', '/'), RepositoryDocs.Files));
    }
}
