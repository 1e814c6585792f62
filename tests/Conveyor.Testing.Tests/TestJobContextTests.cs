using System.Text;

namespace Conveyor.Testing.Tests;

public sealed class TestJobContextTests
{
    [Fact]
    public async Task Create_AHandlersProgressResultAndItemErrors_AreReadBack()
    {
        var payload = new ImportRows(["a", "", "c", "d"]);
        var test = TestJobContext.Create(payload);

        await new ImportRowsHandler().HandleAsync(payload, test.Context, CancellationToken.None);

        Assert.Equal([25, 50, 75, 100], test.ReportedProgress);
        Assert.Equal(new ImportSummary(3), test.ResultAs<ImportSummary>());
        Assert.Equal("""{"imported":3}""", Encoding.UTF8.GetString(test.Result!.Value.Span));
        Assert.Equal("/imports/1.csv", test.ResultUrl);
        var error = Assert.Single(test.ItemErrors);
        Assert.Equal(("row 2", "empty row"), (error.Item, error.Message));
    }

    [Fact]
    public void Create_WithOptions_TheContextSaysWhatTheyAsk()
    {
        var test = TestJobContext.Create(new ArchiveNote(7), new TestJobOptions { JobId = "job-7", Queue = "low", Tenant = "acme", Attempt = 4, MaxRetry = 3, BatchId = "batch-1" });

        Assert.Equal(("job-7", "note:archive", "low", "acme"), (test.Context.JobId, test.Context.JobType, test.Context.Queue, test.Context.Tenant));
        Assert.Equal("batch-1", test.Context.BatchId);
        Assert.Equal(4, test.Context.Attempt);
        Assert.True(test.Context.IsLastAttempt);
        Assert.Equal("""{"note_id":7}""", Encoding.UTF8.GetString(test.Context.Payload.Span));
    }

    [Fact]
    public void CancelAndRequestShutdown_SignalTheContextsTokens()
    {
        var test = TestJobContext.Create(new ArchiveNote(1));
        Assert.False(test.Context.CancellationToken.IsCancellationRequested);

        test.Cancel();
        test.RequestShutdown();

        Assert.True(test.Context.CancellationToken.IsCancellationRequested);
        Assert.True(test.Context.ShutdownRequested.IsCancellationRequested);
    }

    [Fact]
    public void ResultAs_WithoutAResult_SaysSo()
    {
        var test = TestJobContext.Create(new ArchiveNote(1));

        Assert.Null(test.Result);
        Assert.Throws<InvalidOperationException>(() => test.ResultAs<ImportSummary>());
    }

    [Fact]
    public void Create_AnInvalidJobTypeOrAttempt_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => TestJobContext.Create("not a type", "{}"u8.ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => TestJobContext.Create(new ArchiveNote(1), new TestJobOptions { Attempt = 0 }));
    }

    [Fact]
    public async Task Signals_AWaitForADeliveredSignal_ReturnsItsPayload_AndAnotherSuspendsTheAttempt()
    {
        var test = TestJobContext.Create(new ArchiveNote(3), new TestJobOptions { Signals = new Dictionary<string, string> { ["approved"] = """{"by":"ana"}""" } });

        var approval = await test.Context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(1));
        Assert.Equal(new Approval("ana"), approval);

        await Assert.ThrowsAsync<JobSuspendedException>(async () => await test.Context.WaitForSignalAsync("published", TimeSpan.FromHours(1)));
        Assert.Null(await test.Context.WaitForSignalAsync("reviewed", TimeSpan.Zero));
    }

    [Fact]
    public async Task FinishedSteps_AreReturnedWithoutRunningTheStep_AsAfterARetry()
    {
        var test = TestJobContext.Create(new ArchiveNote(4), new TestJobOptions { FinishedSteps = new Dictionary<string, string> { ["upload"] = "\"s3://notes/4\"" } });
        var ran = new List<string>();

        var upload = await test.Context.RunStepAsync("upload", _ => { ran.Add("upload"); return ValueTask.FromResult("s3://other"); });
        var notify = await test.Context.RunStepAsync("notify", _ => { ran.Add("notify"); return ValueTask.FromResult(1); });

        Assert.Equal(("s3://notes/4", 1), (upload, notify));
        Assert.Equal(["notify"], ran);
    }

    private sealed record Approval(string By);
}
