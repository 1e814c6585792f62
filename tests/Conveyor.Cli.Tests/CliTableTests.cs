namespace Conveyor.Cli.Tests;

/// <summary>Tables one line a row: ids, states, queues and times whole, free text (an error, a payload) cut to the width.</summary>
public sealed class CliTableTests : IAsyncLifetime
{
    internal static readonly string LongError =
        "Import failed at row 2: the quantity 'x' of SKU A-1 is not a number; " + string.Concat(Enumerable.Repeat("the rest of a long explanation, ", 12)) + "END-OF-ERROR";

    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<string> FailedJobAsync(string message) => _server.FailedJobAsync("imports", message);

    [Theory]
    [InlineData(150)]
    [InlineData(200)]
    public async Task JobsLs_InATerminal_AFailedJobsLongError_IsCutToTheWidth_AndTheRowIsOneLineWithTheIdWhole(int width)
    {
        var id = await FailedJobAsync(LongError);

        var run = await _server.RunAtWidthAsync(width, "jobs", "ls", "--status", "failed");

        Assert.True(run.ExitCode == 0, run.Error);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.True(line.TrimEnd().Length <= width, $"{line.TrimEnd().Length} > {width}: {line}"));
        var row = Assert.Single(lines, line => line.Contains("imports", StringComparison.Ordinal));
        Assert.Contains(id, row, StringComparison.Ordinal);
        Assert.Matches(@"FAILED\s+1\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)\s+Import failed at row 2", row);
        Assert.EndsWith("…", row.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("END-OF-ERROR", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsLs_InATerminalTooNarrowForTheIdsAndTimes_RunsPastItsWidth_RatherThanSplittingThem()
    {
        var id = await FailedJobAsync(LongError);

        var run = await _server.RunAtWidthAsync(80, "jobs", "ls", "--status", "failed");

        Assert.True(run.ExitCode == 0, run.Error);
        var row = Assert.Single(run.Output.Split('\n'), line => line.Contains(id, StringComparison.Ordinal));
        Assert.Matches(@"tenant-a\s+note:archive\s+imports\s+FAILED\s+1\s+\S+\s+Import failed", row);
        Assert.EndsWith("…", row.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsLs_Piped_AFailedJobsLongError_TakesOneLine()
    {
        var id = await FailedJobAsync(LongError);

        var run = await _server.RunAsync("jobs", "ls", "--status", "failed");

        Assert.True(run.ExitCode == 0, run.Error);
        var lines = run.Output.Split('\n');
        var row = Assert.Single(lines, line => line.Contains(id, StringComparison.Ordinal));
        Assert.Contains("Import failed at row 2", row, StringComparison.Ordinal);
        Assert.EndsWith("…", row.TrimEnd(), StringComparison.Ordinal);
        Assert.Single(lines, line => line.Contains("the rest of", StringComparison.Ordinal));
    }

    [Fact]
    public async Task JobsShow_GivesTheErrorAndThePayloadWhole()
    {
        var id = await FailedJobAsync(LongError);

        var run = await _server.RunAtWidthAsync(1000, "jobs", "show", id);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains(LongError, run.Output, StringComparison.Ordinal);
    }
}
