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
        var source = Path.Combine(Work, "source");
        CopySources(source);
        // One pack of everything under src/ and templates/ (the server included: it must come out with no package),
        // each project built once.
        var solution = Path.Combine(source, "Packages.slnx");
        await File.WriteAllTextAsync(solution, "<Solution>\n" + string.Concat(
            Directory.GetFiles(Path.Combine(source, "src"), "*.csproj", SearchOption.AllDirectories)
                .Concat(Directory.GetDirectories(Path.Combine(source, "templates")).SelectMany(d => Directory.GetFiles(d, "*.csproj"))) // not the templates' own content
                .Select(p => $"  <Project Path=\"{Path.GetRelativePath(source, p)}\" />\n")) + "</Solution>\n");
        await RunAsync(source, "dotnet", "pack", solution, "-c", "Release", "-o", Packages, "-p:Version=" + Version, "-p:EnableSourceControlManagerQueries=false", "-nologo", "-v", "q");

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
