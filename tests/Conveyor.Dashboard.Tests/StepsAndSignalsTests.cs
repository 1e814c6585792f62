using System.Text.Json;
using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// A job's durable steps and signals on its page (GET /jobs/{id}/steps). Each test runs its own server with workers
/// (for queue <c>approvals</c> only): the job must really reach its wait, and the shared seeded server has no workers.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class StepsAndSignalsTests
{
    [Fact]
    public async Task WaitingJob_ShowsItsStepWithItsResultCut_AndItsWait()
    {
        await using var server = await DashboardServer.StartAsync(workers: true);
        var jobId = await EnqueueAsync(server, DashboardServer.ApprovalJobType);
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/jobs/" + jobId);
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
        browser.Script("arguments[0].scrollIntoView();", browser.Find(By.Id("steps-title")));
        browser.Screenshot("job-waiting-for-signal");
    }

    [Fact]
    public async Task AWaitThatTimedOut_ShowsItsWait_AndItsSignalAsTimedOut()
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
    }

    private static async Task<string> EnqueueAsync(DashboardServer server, string type)
    {
        var created = await server.SendAsync(HttpMethod.Post, "/jobs", $$$"""{"type": "{{{type}}}", "queue": "{{{DashboardServer.ApprovalsQueue}}}", "payload": {"order": 42}}""");
        return JsonDocument.Parse(created).RootElement.GetProperty("job_id").GetString()!;
    }
}
