namespace Conveyor.Packaging.Tests;

/// <summary>
/// Publishes a small worker (bench/Conveyor.AotWorker/Program.cs: a host, the SQLite store, one handler and its
/// source-generated JSON context) with Native AOT from the packages, as a user would, and runs it: it must publish
/// without one trimming or AOT warning and run its job. The one slow test of the suite (the native compile and link
/// take one to four minutes here), kept because it is the only check that the packages hold their IsAotCompatible.
/// </summary>
[Collection(PackagesCollection.Name)]
public sealed class NativeAotWorkerTests(LocalPackageFeed feed)
{
    [Fact]
    public async Task AWorkerPublishedWithNativeAot_RunsAJobAgainstSqlite_WithoutTrimmingOrAotWarnings()
    {
        var app = Path.Combine(feed.Apps, "aot-worker");
        Directory.CreateDirectory(app);
        File.Copy(Path.Combine(LocalPackageFeed.Root, "bench", "Conveyor.AotWorker", "Program.cs"), Path.Combine(app, "Program.cs"));
        await File.WriteAllTextAsync(Path.Combine(app, "AotWorker.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <InvariantGlobalization>true</InvariantGlobalization>
                <PublishAot>true</PublishAot>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Conveyor.Sqlite" Version="{feed.Version}" />
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.0" />
              </ItemGroup>
            </Project>
            """);

        var output = Path.Combine(app, "out");
        List<string> publish = ["publish", "-c", "Release", "-r", "linux-x64", "-o", output, "--nologo"];
        // The test command's eng/services/aot-toolchain.sh installs Debian's clang if missing and names it; Debian's
        // clang-14 package installs no plain "clang", the name the ILCompiler looks for, so it is passed by name.
        var clang = Environment.GetEnvironmentVariable("CONVEYOR_AOT_CLANG") is { Length: > 0 } named ? named
            : new[] { "clang", "clang-14" }.Select(OnPath).FirstOrDefault(path => path is not null)
            ?? throw new InvalidOperationException("No clang: run eng/services/aot-toolchain.sh start (it installs Debian's clang and zlib1g-dev).");
        publish.Add($"-p:CppCompilerAndLinker={clang}");

        var published = await LocalPackageFeed.RunAsync(app, "dotnet", [.. publish]);
        Assert.DoesNotContain("warning IL", published, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(output, "AotWorker.dll")), "the worker was published as IL, not compiled ahead of time");

        var ran = await LocalPackageFeed.RunAsync(app, Path.Combine(output, "AotWorker"), Path.Combine(app, "worker.db"));
        Assert.Contains("worker ran job 42", ran, StringComparison.Ordinal);
        Assert.Contains("one-argument AddHandler: AddHandler<GreetHandler>() finds the payload type by reflection, which a Native AOT application cannot run: register the handler with AddHandler<Greet, GreetHandler>().", ran, StringComparison.Ordinal);
    }

    private static string? OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, command))
            .FirstOrDefault(File.Exists);
}
