using System.Text;
using System.Text.Json;
using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// A job's durable steps and signals on its page (GET /jobs/{id}/steps), and the signal an operator sends from there
/// to a job that waits for one. Each test runs its own server with workers (for queue <c>approvals</c> only): the job
/// must really park on its wait and really run again, and the shared seeded server has no workers.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class StepsAndSignalsTests
{
    [Fact]
    public async Task AnotherTenantsWaitingJob_ShowsItsStepAndWait_AndASignalSentFromThePageReachesItsHandler()
    {
        await using var server = await DashboardServer.StartAsync(workers: true);
        // globex's job, opened by the operator (tenant acme): its steps are read and its signal sent in globex.
        var jobId = await EnqueueAsync(server, DashboardServer.ApprovalJobType, DashboardServer.TenantKey);
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, $"#/jobs/{jobId}?tenant=globex");
        // Parked on its wait: scheduled, its step and the wait's deadline stored (the page follows the job).
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "scheduled"
            && d.FindElements(By.CssSelector("tr[data-kind=wait][data-step-name=approved]")).Count == 1, "the job parked on its wait");
        var step = browser.Find(By.CssSelector("tr[data-kind=step][data-step-name=open-case]"));
        var shown = step.FindElement(By.CssSelector("[data-field=step-result] code")).Text;
        Assert.StartsWith("{\"case_id\":\"C-42\"", shown, StringComparison.Ordinal);
        Assert.EndsWith("…", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("claim number", shown, StringComparison.Ordinal);
        step.FindElement(By.CssSelector("details summary")).Click();
        var full = browser.Find(By.CssSelector("tr[data-step-name=open-case] details pre"));
        Assert.Contains(DashboardServer.CaseNote, full.Text, StringComparison.Ordinal);
        Assert.StartsWith("until ", browser.Find(By.CssSelector("tr[data-kind=wait] [data-field=step-result]")).Text, StringComparison.Ordinal);
        Assert.Equal("approved", browser.Find(By.Id("signal-name")).GetDomProperty("value"));
        browser.Script("arguments[0].scrollIntoView();", browser.Find(By.Id("steps-title")));
        browser.Screenshot("job-waiting-for-signal");

        // A payload that is not JSON: the API's problem is shown as every action's error is, and nothing changes.
        var payload = browser.Find(By.Id("signal-payload"));
        payload.SendKeys("{\"by\": ");
        browser.Click(By.CssSelector("button[data-action=signal]"));
        browser.Until(d => d.FindElement(By.CssSelector("#notice .msg.error[role=alert]")).Text.Contains("payload: is not JSON", StringComparison.Ordinal), "the API's refusal");
        Assert.Equal(JobState.Scheduled, (await server.Store.GetAsync("globex", jobId, CancellationToken.None))!.State);

        // Sent as typed: an integer past 2^53 reaches the handler unchanged (a parsed and re-encoded body would round it).
        const string Approval = """{"by": "ada", "approved": true, "ticket": 12345678901234567890}""";
        payload = browser.Find(By.Id("signal-payload"));
        payload.Clear();
        payload.SendKeys(Approval);
        browser.Click(By.CssSelector("button[data-action=signal]"));
        browser.Until(d => d.FindElement(By.Id("notice")).Text.Contains("Signal 'approved' delivered", StringComparison.Ordinal), "the signal's delivery");
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "success", "the job run again to its end");

        var job = await server.Store.GetAsync("globex", jobId, CancellationToken.None);
        Assert.Equal(Approval, Encoding.UTF8.GetString(job!.Result!.Value.Span));
        Assert.Contains("\"by\": \"ada\"", browser.Find(By.CssSelector("pre[data-field=result]")).Text, StringComparison.Ordinal);
        var signal = browser.Find(By.CssSelector("tr[data-kind=signal][data-step-name=approved]"));
        Assert.Contains("\"by\":\"ada\"", signal.FindElement(By.CssSelector("[data-field=step-result]")).Text, StringComparison.Ordinal);
        Assert.Equal("—", signal.FindElement(By.CssSelector("[data-field=timed-out]")).Text);
        Assert.Equal(["step", "wait", "signal"], browser.FindAll(By.CssSelector("tr[data-kind]")).Select(r => r.GetAttribute("data-kind")));
        Assert.Empty(browser.FindAll(By.Id("signal-name")));
        browser.Script("arguments[0].scrollIntoView();", browser.Find(By.Id("steps-title")));
        browser.Screenshot("job-steps-and-signal");
    }

    [Fact]
    public async Task AWaitThatTimedOut_ShowsItsWait_AndItsSignalAsTimedOut_AndNoSignalForm()
    {
        await using var server = await DashboardServer.StartAsync(workers: true);
        var jobId = await EnqueueAsync(server, DashboardServer.ExpiringJobType);
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/jobs/" + jobId);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "success", "the job, past its wait");
        var signal = browser.Find(By.CssSelector("tr[data-kind=signal][data-step-name=approved]"));
        Assert.Equal("yes", signal.FindElement(By.CssSelector("[data-field=timed-out]")).Text);
        Assert.Equal("—", signal.FindElement(By.CssSelector("[data-field=step-result]")).Text);
        Assert.StartsWith("until ", browser.Find(By.CssSelector("tr[data-kind=wait][data-step-name=approved] [data-field=step-result]")).Text, StringComparison.Ordinal);
        Assert.Empty(browser.FindAll(By.Id("signal-name")));
    }

    [Fact]
    public async Task ReadOnlyMode_ShowsAWaitingJobsSteps_ButNoSignalForm()
    {
        await using var server = await DashboardServer.StartAsync(readOnly: true, workers: true);
        var jobId = await EnqueueAsync(server, DashboardServer.ApprovalJobType);
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/jobs/" + jobId);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "scheduled"
            && d.FindElements(By.CssSelector("tr[data-kind=wait][data-step-name=approved]")).Count == 1, "the job parked on its wait");
        Assert.Empty(browser.FindAll(By.CssSelector("form.signal, #signal-name, #signal-payload")));
        Assert.Empty(browser.FindAll(By.CssSelector("[data-action]")));
    }

    private static async Task<string> EnqueueAsync(DashboardServer server, string type, string key = DashboardServer.OperatorKey)
    {
        var created = await server.SendAsync(HttpMethod.Post, "/jobs", $$$"""{"type": "{{{type}}}", "queue": "{{{DashboardServer.ApprovalsQueue}}}", "payload": {"order": 42}}""", key);
        return JsonDocument.Parse(created).RootElement.GetProperty("job_id").GetString()!;
    }
}
