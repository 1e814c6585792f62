namespace Conveyor.Packaging.Tests;

/// <summary>
/// Installs the template package built from this repository (into a template store of the test's own, not the
/// machine's), makes a worker solution with conveyor-worker and adds a job to it with conveyor-job, then builds and
/// tests the result against the Conveyor packages of the same run: what `dotnet new` hands a user compiles and passes.
/// </summary>
[Collection(PackagesCollection.Name)]
public sealed class TemplateTests(LocalPackageFeed feed)
{
    [Fact]
    public async Task TheWorkerTemplate_WithAJobAdded_BuildsAndItsTestsPass()
    {
        var hive = await InstallTemplatesAsync();

        await NewAsync(hive, feed.Apps, "conveyor-worker", "-n", "Billing");
        var solution = Path.Combine(feed.Apps, "Billing");
        await NewAsync(hive, solution, "conveyor-job", "-n", "SendInvoice", "--app", "Billing", "--job-type", "invoice:send");

        Assert.True(File.Exists(Path.Combine(solution, "src/Billing/Jobs/SendInvoiceHandler.cs")), "conveyor-job put no handler in the application");
        Assert.True(File.Exists(Path.Combine(solution, "tests/Billing.Tests/SendInvoiceHandlerTests.cs")), "conveyor-job put no test in the test project");
        Assert.Contains("\"invoice:send\"", await File.ReadAllTextAsync(Path.Combine(solution, "src/Billing/Jobs/SendInvoice.cs")), StringComparison.Ordinal);
        Assert.Contains($"Include=\"Conveyor.Sqlite\" Version=\"{feed.Version}\"", await File.ReadAllTextAsync(Path.Combine(solution, "src/Billing/Billing.csproj")), StringComparison.Ordinal);

        var output = await LocalPackageFeed.RunAsync(solution, "dotnet", "test", "Billing.slnx", "-nologo");
        // Three tests of the worker's own job and two of the added one.
        Assert.Contains("Passed:     5", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis", "Conveyor.Redis", "\"Redis\"")]
    [InlineData("postgres", "Conveyor.Postgres", "\"Postgres\"")]
    public async Task TheWorkerTemplate_ForAnotherStore_ReferencesItsPackageAndSettings_AndBuilds(string store, string package, string section)
    {
        var hive = await InstallTemplatesAsync();

        var name = "Worker" + store;
        await NewAsync(hive, feed.Apps, "conveyor-worker", "-n", name, "--store", store);
        var project = Path.Combine(feed.Apps, name, "src", name);

        Assert.Contains($"Include=\"{package}\"", await File.ReadAllTextAsync(Path.Combine(project, name + ".csproj")), StringComparison.Ordinal);
        var settings = await File.ReadAllTextAsync(Path.Combine(project, "appsettings.json"));
        Assert.Contains(section, settings, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Sqlite\"", settings, StringComparison.Ordinal);
        await LocalPackageFeed.RunAsync(project, "dotnet", "build", "-nologo", "-v", "q");
    }

    /// <summary>Installs the template package into a template store of this run's own; returns its folder.</summary>
    private async Task<string> InstallTemplatesAsync()
    {
        var hive = Path.Combine(feed.Work, "template-hive");
        if (!Directory.Exists(hive))
        {
            await LocalPackageFeed.RunAsync(feed.Apps, "dotnet", "new", "install", Path.Combine(feed.Packages, $"Conveyor.Templates.{feed.Version}.nupkg"), "--debug:custom-hive", hive);
        }

        return hive;
    }

    private static Task<string> NewAsync(string hive, string directory, string template, params string[] args) =>
        LocalPackageFeed.RunAsync(directory, "dotnet", ["new", template, .. args, "--debug:custom-hive", hive]);
}
