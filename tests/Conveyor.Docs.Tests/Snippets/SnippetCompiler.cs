using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Conveyor.Docs.Tests.Snippets;

/// <summary>
/// Compiles the C# blocks of one markdown file as the files of one project, the way a user's host project would
/// build them: the implicit usings of <c>dotnet new worker</c> plus <c>Conveyor</c>, every Conveyor package, and the
/// <c>[LoggerMessage]</c> source generator. Each block carries <c>#line</c> directives, so an error names the markdown
/// file and line.
/// </summary>
public static partial class SnippetCompiler
{
    /// <summary>The implicit usings of Microsoft.NET.Sdk.Worker (and so of every .NET host template), and Conveyor.</summary>
    public static readonly IReadOnlyList<string> GlobalUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading",
        "System.Threading.Tasks", "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection",
        "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging", "Conveyor",
    ];

    /// <summary>What Microsoft.NET.Sdk.Web adds to them, for blocks marked <c>web</c>.</summary>
    public static readonly IReadOnlyList<string> WebUsings =
    [
        "System.Net.Http.Json", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Http", "Microsoft.AspNetCore.Routing",
    ];

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);

    private static readonly Lazy<IReadOnlyList<ISourceGenerator>> Generators = new(LoadGenerators);

    /// <summary>The errors of the file's snippets, each as <c>path:line: error CS…: message</c>; empty when they compile.</summary>
    public static IReadOnlyList<string> Compile(IReadOnlyList<Snippet> snippets)
    {
        if (snippets.Count == 0)
        {
            return [];
        }

        var path = snippets[0].Path;
        var programs = snippets.Count(s => s.Kind == SnippetKind.Program);
        if (programs > 1)
        {
            return [$"{path}: {programs} blocks are marked 'program'; a project has one Program.cs."];
        }

        var trees = new List<SyntaxTree>
        {
            CSharpSyntaxTree.ParseText(string.Concat(GlobalUsings.Select(u => $"global using {u};\n")), ParseOptions, "GlobalUsings.g.cs"),
        };
        trees.AddRange(snippets.Select(s => CSharpSyntaxTree.ParseText(ToSource(s), ParseOptions, $"{s.Path}.L{s.Line}.cs", Encoding.UTF8)));

        var options = new CSharpCompilationOptions(programs == 1 ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary)
            .WithNullableContextOptions(NullableContextOptions.Enable);
        var compilation = CSharpCompilation.Create("Snippets", trees, References.Value, options);
        CSharpGeneratorDriver.Create(Generators.Value, parseOptions: ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var generatorDiagnostics);

        return generatorDiagnostics.Concat(generated.GetDiagnostics())
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(Describe)
            .Distinct()
            .ToList();
    }

    private static string Describe(Diagnostic diagnostic)
    {
        var where = diagnostic.Location.GetMappedLineSpan();
        var place = where.IsValid ? $"{where.Path}:{where.StartLinePosition.Line + 1}" : "(no location)";
        return $"{place}: error {diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>The block as a C# file: its using directives first, then its code wrapped as its kind asks.</summary>
    private static string ToSource(Snippet snippet)
    {
        var source = new StringBuilder();
        if (snippet.Web)
        {
            source.Append(string.Concat(WebUsings.Select(u => $"using {u};\n")));
        }

        var code = snippet.Code.Split('\n');
        if (snippet.Kind is SnippetKind.Method or SnippetKind.Members)
        {
            // A fragment shows the using directives it needs at its top; they belong at the top of the file.
            for (var i = 0; i < code.Length; i++)
            {
                if (UsingDirective().IsMatch(code[i]))
                {
                    source.Append($"#line {snippet.Line + i} \"{snippet.Path}\"\n{code[i]}\n");
                    code[i] = "";
                }
            }
        }

        var body = $"#line {snippet.Line} \"{snippet.Path}\"\n{string.Join('\n', code)}\n#line default\n";
        source.Append(snippet.Kind switch
        {
            SnippetKind.Method => $"internal static class Snippet_L{snippet.Line}\n{{\n    internal static async Task RunAsync({snippet.Parameters})\n    {{\n{body}    }}\n}}\n",
            SnippetKind.Members => $"internal interface ISnippet_L{snippet.Line}\n{{\n{body}}}\n",
            _ => body,
        });
        return source.ToString();
    }

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        // Everything this test process runs with: the .NET and ASP.NET Core frameworks, the Conveyor assemblies and
        // their dependencies, less the test tooling a user's project would not reference.
        var excluded = new[] { "xunit", "Microsoft.CodeAnalysis", "Microsoft.TestPlatform", "Microsoft.VisualStudio", "Microsoft.Testing", "testhost", "Conveyor.Docs.Tests" };
        return ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !excluded.Any(e => Path.GetFileName(p).StartsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();
    }

    private static IReadOnlyList<ISourceGenerator> LoadGenerators()
    {
        // Copied next to the tests by the project's CopySnippetGenerators target.
        var directory = Path.Combine(AppContext.BaseDirectory, "snippet-generators");
        return Directory.GetFiles(directory, "*.dll")
            .Select(Assembly.LoadFrom)
            .SelectMany(a => a.GetTypes())
            .Where(t => !t.IsAbstract && t.GetCustomAttribute<GeneratorAttribute>() is not null)
            .Select(t => Activator.CreateInstance(t) switch
            {
                IIncrementalGenerator incremental => incremental.AsSourceGenerator(),
                ISourceGenerator generator => generator,
                _ => throw new InvalidOperationException($"{t} is not a source generator."),
            })
            .ToList();
    }

    [GeneratedRegex(@"^\s*using\s+(static\s+)?[\w.]+(\s*=\s*[\w.<>, ]+)?\s*;\s*$")]
    private static partial Regex UsingDirective();
}
