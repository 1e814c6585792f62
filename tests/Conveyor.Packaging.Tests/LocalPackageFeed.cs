using System.Diagnostics;
using System.Text;

namespace Conveyor.Packaging.Tests;

/// <summary>
/// Packs every package of the repository once for the packaging tests, as a release would: from a copy of the sources
/// (src/ and templates/) under a version no earlier run used, so that NuGet's cache cannot hand back an older build
/// of the same number and this run never touches the repository's own build output. <see cref="Apps"/> is a folder
/// whose nuget.config puts the packages ahead of the public feed, for the applications the tests build from them.
/// </summary>
public sealed class LocalPackageFeed : IAsyncLifetime
{
    /// <summary>The repository's root folder (the one with Conveyor.slnx).</summary>
    public static readonly string Root = FindRoot();

    public string Work { get; } = Directory.CreateTempSubdirectory("conveyor-packages-").FullName;

    public string Version { get; } = "0.1.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);

    public string Packages => Path.Combine(Work, "packages");

    public string Apps => Path.Combine(Work, "apps");

    public async Task InitializeAsync()
    {
        if (BuiltPackageProjects() is { } built)
        {
            // The repository's own build of this run's configuration, up to date with its sources (eng/test.sh builds
            // everything in Release before any test): packed as it is, in seconds, where building a copy takes minutes
            // of both cores beside the other test projects. Nothing is restored or built, so the repository's build
            // output stays as it was; only the pack's own files are written under obj/.
            var projects = Path.Combine(Work, "Packages.slnx");
            await File.WriteAllTextAsync(projects, Solution(Work, built));
            await RunAsync(Root, "dotnet", "pack", projects, "-c", Configuration, "--no-build", "--no-restore", "-o", Packages, "-p:Version=" + Version, "-p:EnableSourceControlManagerQueries=false", "-nologo", "-v", "q");
        }
        else
        {
            // No such build (a test run of this project alone): a copy of the sources is built and packed, so that the
            // run never rebuilds the repository under another version.
            var source = Path.Combine(Work, "source");
            CopySources(source);
            var solution = Path.Combine(source, "Packages.slnx");
            await File.WriteAllTextAsync(solution, Solution(source, PackageProjects(source)));
            await RunAsync(source, "dotnet", "pack", solution, "-c", "Release", "-o", Packages, "-p:Version=" + Version, "-p:EnableSourceControlManagerQueries=false", "-nologo", "-v", "q");
        }

        Directory.CreateDirectory(Apps);
        await File.WriteAllTextAsync(Path.Combine(Apps, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="conveyor-local" value="{Packages}" />
              </packageSources>
            </configuration>
            """);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Work, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Runs a command to its end (8 minutes at most) and returns what it printed; fails the test if it fails.</summary>
    public static async Task<string> RunAsync(string directory, string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within 8 minutes");
        }

        output.Append(await stdout).Append(await stderr);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited with {process.ExitCode}:\n{output}");
        return output.ToString();
    }

    /// <summary>The configuration this test project was built in (its output folder's parent).</summary>
    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>
    /// Every project under src/ and templates/ of <paramref name="root"/> (the server included: it must come out with no
    /// package), not the templates' own content.
    /// </summary>
    private static string[] PackageProjects(string root) =>
        [.. Directory.GetFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetDirectories(Path.Combine(root, "templates")).SelectMany(d => Directory.GetFiles(d, "*.csproj")))];

    /// <summary>A solution file in <paramref name="directory"/> of <paramref name="projects"/>.</summary>
    private static string Solution(string directory, IEnumerable<string> projects) =>
        "<Solution>\n" + string.Concat(projects.Select(p => $"  <Project Path=\"{Path.GetRelativePath(directory, p)}\" />\n")) + "</Solution>\n";

    /// <summary>
    /// The repository's package projects when each one that compiles has its assembly in this configuration's output,
    /// written after every file of the project; otherwise null.
    /// </summary>
    private static string[]? BuiltPackageProjects()
    {
        var projects = PackageProjects(Root);
        foreach (var project in projects)
        {
            var directory = Path.GetDirectoryName(project)!;
            var name = Path.GetFileNameWithoutExtension(project);
            var outputs = Path.Combine(directory, "bin", Configuration);
            var assembly = Directory.Exists(outputs)
                ? Directory.EnumerateFiles(outputs, name + ".dll", SearchOption.AllDirectories).FirstOrDefault()
                : null;
            if (File.ReadAllText(project).Contains("<IncludeBuildOutput>false</IncludeBuildOutput>", StringComparison.Ordinal))
            {
                continue; // the templates: content read as the pack runs
            }

            if (assembly is null)
            {
                return null;
            }

            var built = File.GetLastWriteTimeUtc(assembly);
            var changed = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetRelativePath(directory, f).Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"))
                .Any(f => File.GetLastWriteTimeUtc(f) > built);
            if (changed)
            {
                return null;
            }
        }

        return projects;
    }

    /// <summary>The build inputs of the packages: the shared props, the readme and licence, src/ and templates/ without build output.</summary>
    private static void CopySources(string target)
    {
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "README.md", "LICENSE", ".editorconfig", "eng/BannedSymbols.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, file))!);
            File.Copy(Path.Combine(Root, file), Path.Combine(target, file));
        }

        foreach (var folder in new[] { "src", "templates" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, folder), "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(Root, file);
                var parts = relative.Split(Path.DirectorySeparatorChar);
                if (parts.Contains("bin") || parts.Contains("obj"))
                {
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
                File.Copy(file, Path.Combine(target, relative));
            }
        }
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Conveyor.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Conveyor.slnx not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>The packaging tests share one pack of the repository and run one after the other.</summary>
[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<LocalPackageFeed>
{
    public const string Name = "packages";
}
