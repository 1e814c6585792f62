using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace Conveyor.Packaging.Tests;

/// <summary>
/// Packs every package of the repository as a release would, then builds and runs a small application from those
/// packages alone (no project references), and installs the tool from its package: a packaging mistake (a missing
/// dependency, a file left out, a tool that does not start) fails here rather than in a user's project.
/// </summary>
public sealed class PackageConsumerTests : IDisposable
{
    private static readonly string Root = FindRoot();
    private readonly string _work = Directory.CreateTempSubdirectory("conveyor-packages-").FullName;

    // A version no earlier run used, so NuGet's cache cannot hand back an older build of the same number.
    private readonly string _version = "0.1.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task ThePackages_BuildAndRunAnApplication_AndTheToolStarts()
    {
        // Packed from a copy of the sources, so that this run's version never touches the repository's own build output.
        var source = Path.Combine(_work, "source");
        CopySources(source);
        var packages = Path.Combine(_work, "packages");
        string[] expected = ["Conveyor", "Conveyor.Sqlite", "Conveyor.Redis", "Conveyor.Postgres", "Conveyor.AspNetCore", "Conveyor.OpenTelemetry", "Conveyor.Testing", "Conveyor.Cli"];
        // One pack of everything under src/ (the server included: it must come out with no package), each project built once.
        var solution = Path.Combine(source, "Packages.slnx");
        await File.WriteAllTextAsync(solution, "<Solution>\n" + string.Concat(
            Directory.GetFiles(Path.Combine(source, "src"), "*.csproj", SearchOption.AllDirectories)
                .Select(p => $"  <Project Path=\"{Path.GetRelativePath(source, p)}\" />\n")) + "</Solution>\n");
        await RunAsync(source, "dotnet", "pack", solution, "-c", "Release", "-o", packages, "-p:Version=" + _version, "-p:EnableSourceControlManagerQueries=false", "-nologo", "-v", "q");

        foreach (var id in expected)
        {
            var package = Path.Combine(packages, $"{id}.{_version}.nupkg");
            Assert.True(File.Exists(package), $"{id} was not packed");
            Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), $"{id} has no symbol package");
            using var zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains("LICENSE", entries);
            if (id != "Conveyor.Cli")
            {
                Assert.Contains($"lib/net10.0/{id}.xml", entries);
            }
        }

        Assert.False(File.Exists(Path.Combine(packages, $"Conveyor.Server.{_version}.nupkg")), "the server application was packed");

        var app = Path.Combine(_work, "consumer");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="conveyor-local" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Conveyor.Sqlite" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using Conveyor;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;

            var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var builder = Host.CreateApplicationBuilder(args);
            builder.Services.AddSingleton(done);
            builder.Services.AddConveyor()
                .UseSqlite(o => o.Path = Path.Combine(AppContext.BaseDirectory, "consumer.db"))
                .AddHandler<Greet, GreetHandler>()
                .AddServer();
            using var host = builder.Build();
            await host.StartAsync();
            await host.Services.GetRequiredService<IJobClient>().EnqueueAsync(new Greet(42));
            Console.WriteLine($"consumer ran job for {await done.Task.WaitAsync(TimeSpan.FromSeconds(60))}");
            await host.StopAsync();

            public sealed record Greet(long Id) : IJobPayload
            {
                public static string JobType => "consumer:greet";
            }

            public sealed class GreetHandler(TaskCompletionSource<long> done) : IJobHandler<Greet>
            {
                public Task HandleAsync(Greet payload, JobContext context, CancellationToken cancellationToken)
                {
                    done.TrySetResult(payload.Id);
                    return Task.CompletedTask;
                }
            }
            """);

        var output = await RunAsync(app, "dotnet", "run", "-c", "Release", "--nologo");
        Assert.Contains("consumer ran job for 42", output, StringComparison.Ordinal);

        var tools = Path.Combine(_work, "tools");
        await RunAsync(app, "dotnet", "tool", "install", "Conveyor.Cli", "--version", _version, "--tool-path", tools, "--add-source", packages);
        var help = await RunAsync(app, Path.Combine(tools, "conveyor"), "--help");
        Assert.Contains("jobs", help, StringComparison.Ordinal);
        Assert.Contains("schedules", help, StringComparison.Ordinal);
    }

    private static async Task<string> RunAsync(string directory, string file, params string[] args)
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

    /// <summary>The build inputs of the packages: the shared props, the readme and licence, and src/ without build output.</summary>
    private static void CopySources(string target)
    {
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "README.md", "LICENSE", ".editorconfig", "eng/BannedSymbols.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, file))!);
            File.Copy(Path.Combine(Root, file), Path.Combine(target, file));
        }

        var src = Path.Combine(Root, "src");
        foreach (var file in Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories))
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
