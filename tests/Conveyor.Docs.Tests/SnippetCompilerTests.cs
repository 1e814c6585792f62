using Conveyor.Docs.Tests.Snippets;

namespace Conveyor.Docs.Tests;

/// <summary>The snippet conventions (README.md of this project), on small markdown files made for each case.</summary>
public sealed class SnippetCompilerTests
{
    private static IReadOnlyList<string> Compile(string markdown) =>
        SnippetCompiler.Compile(MarkdownSnippets.Parse("docs/example.md", markdown));

    [Fact]
    public void Compile_ABlockThatDoesNotCompile_NamesTheMarkdownFileAndLine()
    {
        var errors = Compile("""
            # Example

            ```csharp
            public sealed record Ping(int Id) : IJobPayload
            {
                public static string JobType => "ping:send";
            }
            ```

            <!-- snippet: method(IJobClient jobs) -->
            ```csharp
            await jobs.EnqueueAsync(new Ping(1));
            await jobs.EnqueueEverywhereAsync(new Ping(2));
            ```
            """);

        var error = Assert.Single(errors);
        Assert.StartsWith("docs/example.md:13: error CS1061:", error, StringComparison.Ordinal);
        Assert.Contains("EnqueueEverywhereAsync", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_EveryKind_CompilesWithTheHostTemplatesUsingsAndTheLoggerMessageGenerator()
    {
        var errors = Compile("""
            <!-- snippet-context
            public interface IInbox { Task<bool> ReadAsync(long id, CancellationToken cancellationToken); }
            -->

            <!-- snippet: program -->
            ```csharp
            var builder = Host.CreateApplicationBuilder(args);
            builder.Services.AddConveyor().UseInMemoryStore().AddHandler<PingHandler>().AddServer();
            builder.Build().Run();

            public sealed record Ping(long Id) : IJobPayload
            {
                public static string JobType => "ping:send";
            }
            ```

            ```csharp
            public sealed partial class PingHandler(IInbox inbox, ILogger<PingHandler> logger) : IJobHandler<Ping>
            {
                public async Task HandleAsync(Ping payload, JobContext context, CancellationToken cancellationToken)
                {
                    if (await inbox.ReadAsync(payload.Id, cancellationToken))
                        LogRead(logger, payload.Id);
                }

                [LoggerMessage(LogLevel.Information, "Ping {ping_id} read")]
                private static partial void LogRead(ILogger logger, long ping_id);
            }
            ```

            <!-- snippet: members -->
            ```csharp
            Task<EnqueueResult> EnqueueAsync<TPayload>(TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default);
            ```

            <!-- snippet: method(WebApplication app) web -->
            ```csharp
            using Conveyor.Storage;
            app.MapGet("/ping/{id}", (string id, HttpContext http) => http.RequestServices.GetRequiredService<IJobStore>().Name);
            ```
            """);

        Assert.Empty(errors);
    }

    [Fact]
    public void Compile_TwoProgramBlocks_IsAnError()
    {
        var errors = Compile("""
            <!-- snippet: program -->
            ```csharp
            Console.WriteLine(1);
            ```
            <!-- snippet: program -->
            ```csharp
            Console.WriteLine(2);
            ```
            """);

        Assert.Contains("one Program.cs", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<!-- snippet: statements -->\n```csharp\nvar x = 1;\n```", "docs/example.md:1: 'statements' is not a snippet kind")]
    [InlineData("<!-- snippet: file -->\n\nSome prose.\n", "docs/example.md:1: a snippet comment must be followed by a C# block")]
    [InlineData("<!-- snippet: file -->\n```json\n{}\n```", "docs/example.md:1: a snippet comment must be followed by a C# block")]
    [InlineData("Text\n```csharp\nvar x = 1;\n", "docs/example.md:2: the code block is not closed")]
    public void Parse_AMisusedConvention_IsRefusedWithItsLine(string markdown, string expected)
    {
        var error = Assert.Throws<FormatException>(() => MarkdownSnippets.Parse("docs/example.md", markdown));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AnIndentedBlockInAList_IsFoundWithItsIndentRemoved()
    {
        var snippet = Assert.Single(MarkdownSnippets.Parse("docs/example.md", "1. Step:\n\n   ```csharp\n   var x = 1;\n   ```\n"));

        Assert.Equal((4, "var x = 1;"), (snippet.Line, snippet.Code));
    }
}
