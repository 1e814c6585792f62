using System.IO.Compression;

namespace Conveyor.Packaging.Tests;

/// <summary>
/// Packs every package of the repository as a release would, then builds and runs a small application from those
/// packages alone (no project references), and installs the tool from its package: a packaging mistake (a missing
/// dependency, a file left out, a tool that does not start) fails here rather than in a user's project.
/// </summary>
[Collection(PackagesCollection.Name)]
public sealed class PackageConsumerTests(LocalPackageFeed feed)
{
    private readonly string _version = feed.Version;

    [Fact]
    public async Task ThePackages_BuildAndRunAnApplication_AndTheToolStarts()
    {
        var packages = feed.Packages;
        string[] expected = ["Conveyor", "Conveyor.Sqlite", "Conveyor.Redis", "Conveyor.Postgres", "Conveyor.AspNetCore", "Conveyor.OpenTelemetry", "Conveyor.Testing", "Conveyor.Cli"];
        foreach (var id in expected)
        {
            var package = Path.Combine(packages, $"{id}.{_version}.nupkg");
            Assert.True(File.Exists(package), $"{id} was not packed");
            Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), $"{id} has no symbol package");
            using var zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            using (var readme = new StreamReader(zip.GetEntry("README.md")!.Open()))
            {
                // Its own README (src/<id>/README.md), the page nuget.org shows for it, not the repository's.
                var title = readme.ReadLine();
                Assert.True(title?.StartsWith($"# {id} ", StringComparison.Ordinal), $"{id} carries the README titled '{title}', not its own");
            }

            Assert.Contains("LICENSE", entries);
            if (id != "Conveyor.Cli")
            {
                Assert.Contains($"lib/net10.0/{id}.xml", entries);
            }
        }

        Assert.False(File.Exists(Path.Combine(packages, $"Conveyor.Server.{_version}.nupkg")), "the server application was packed");

        var app = Path.Combine(feed.Apps, "consumer");
        Directory.CreateDirectory(app);
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
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.0" />
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

        var tools = Path.Combine(feed.Work, "tools");
        await RunAsync(app, "dotnet", "tool", "install", "Conveyor.Cli", "--version", _version, "--tool-path", tools, "--add-source", packages);
        var help = await RunAsync(app, Path.Combine(tools, "conveyor"), "--help");
        Assert.Contains("jobs", help, StringComparison.Ordinal);
        Assert.Contains("schedules", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePostgresPackage_PutsItsMigrationsInTheOutputOfAnApplicationBuiltFromIt()
    {
        // docs/postgres.md sends a DBA who applies migrations by hand to Migrations/ beside Conveyor.Postgres.dll.
        var app = Path.Combine(feed.Apps, "postgres-consumer");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "PostgresConsumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Conveyor.Postgres" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), "System.Console.WriteLine(typeof(Conveyor.Postgres.PostgresJobStore).Assembly.Location);\n");

        await RunAsync(app, "dotnet", "build", "-c", "Release", "--nologo", "-o", Path.Combine(app, "out"));

        Assert.True(File.Exists(Path.Combine(app, "out", "Conveyor.Postgres.dll")));
        Assert.True(File.Exists(Path.Combine(app, "out", "Migrations", "0001_initial.sql")), "no Migrations/0001_initial.sql beside Conveyor.Postgres.dll");
    }

    private static Task<string> RunAsync(string directory, string file, params string[] args) => LocalPackageFeed.RunAsync(directory, file, args);
}
