using System.Text.Json;
using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// The batch and workflow pages: reached from a member job's page or by id, they show the state, counts, progress and
/// members (a batch) or each step with its state and dependencies (a workflow), link to the jobs, and cancel.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class BatchViewTests(DashboardFixture fixture)
{
    [Fact]
    public async Task Batch_FromAMembersJobPage_ShowsCountsAndMembers_AndCancels()
    {
        var created = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, "/batches",
            """{"jobs": [{"type": "report:generate", "payload": {"part": 1}}, {"type": "report:generate", "payload": {"part": 2}}, {"type": "report:generate", "payload": {"part": 3}}], "on_complete": {"type": "report:generate"}}""")).RootElement;
        var batchId = created.GetProperty("batch_id").GetString()!;
        var members = created.GetProperty("job_ids").EnumerateArray().Select(j => j.GetString()!).ToList();
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs/" + members[0]);
        browser.Click(By.CssSelector($"a[data-field=batch][href^='#/batches/{batchId}']"));

        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "running", "the batch, running");
        Assert.Equal("Batch " + batchId, browser.Find(By.TagName("h1")).Text);
        Assert.Contains("3 in all: 0 succeeded, 0 failed, 0 cancelled, 3 unfinished", browser.Find(By.CssSelector("[data-field=counts]")).Text, StringComparison.Ordinal);
        Assert.Equal("0%", browser.Find(By.CssSelector("[data-field=progress]")).Text.Trim());
        var rows = browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")) is { Count: 3 } r ? r : null, "the batch's three jobs");
        Assert.Equal(members.Order(), rows.Select(r => r.GetAttribute("data-job-id")!).Order());
        browser.Screenshot("batch");
        browser.AssertNoNullText();

        browser.Click(By.CssSelector("button[data-action=cancel]"));
        browser.Click(By.CssSelector("dialog[open] button[data-confirm]"));
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "cancelled", "the batch cancelled");
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id][data-status=CANCELLED]")).Count == 3, "its jobs cancelled");
        Assert.Empty(browser.FindAll(By.CssSelector("button[data-action=cancel]")));
        Assert.Contains("100%", browser.Find(By.CssSelector("[data-field=progress]")).Text, StringComparison.Ordinal);
        // Finished: no actions (null in the page's parts) and still no "null" on the page.
        browser.AssertNoNullText();

        browser.Click(By.CssSelector($"tr[data-job-id='{members[1]}'] a"));
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "cancelled", "a member's page");
        Assert.Contains("\"part\": 2", browser.Find(By.CssSelector("pre[data-field=payload]")).Text, StringComparison.Ordinal);

        // The complete callback's page leads to its batch too.
        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/jobs/" + created.GetProperty("on_complete_job_id").GetString());
        browser.Find(By.CssSelector($"a[data-field=after-batch][href^='#/batches/{batchId}']"));
    }

    [Fact]
    public async Task Workflow_OpenedById_ShowsEachStepsStateAndDependencies_AndLinksToItsJobs()
    {
        var created = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, "/workflows", """
            {"name": "nightly-report", "steps": [
              {"name": "extract", "job": {"type": "report:generate", "payload": {"stage": "extract"}}},
              {"name": "sales", "job": {"type": "report:generate"}, "after": ["extract"]},
              {"name": "costs", "job": {"type": "report:generate"}, "after": ["extract"]},
              {"name": "publish", "job": {"type": "report:generate", "payload": {"stage": "publish"}}, "after": ["sales", "costs"], "on_dependency_failure": "fail"}
            ]}
            """)).RootElement;
        var workflowId = created.GetProperty("workflow_id").GetString()!;
        var publish = created.GetProperty("steps").GetProperty("publish").GetString()!;
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/overview");
        browser.Click(By.CssSelector("nav a[data-nav=batches]"));
        var input = browser.Find(By.Id("batch-id"));
        input.SendKeys("not-an-id");
        browser.Click(By.CssSelector("form button[type=submit].primary"));
        browser.Until(d => d.FindElement(By.Id("batch-id-help")).Text.Contains("is not a batch or workflow id", StringComparison.Ordinal), "the refusal of a malformed id");
        input.Clear();
        input.SendKeys(workflowId);
        browser.Click(By.CssSelector("form button[type=submit].primary"));

        browser.Until(d => d.FindElement(By.TagName("h1")).Text == $"Workflow nightly-report {workflowId}", "the workflow's page");
        Assert.Equal("running", browser.Find(By.CssSelector("[data-field=status]")).Text);
        var steps = browser.Until(d => d.FindElements(By.CssSelector("tr[data-step]")) is { Count: 4 } r ? r : null, "the four steps");
        Assert.Equal(["extract", "sales", "costs", "publish"], steps.Select(s => s.GetAttribute("data-step")));
        Assert.Equal("QUEUED", steps[0].GetAttribute("data-status"));
        Assert.Equal("WAITING", steps[3].GetAttribute("data-status"));
        Assert.Equal("sales, costs", steps[3].FindElement(By.CssSelector("[data-field=after]")).Text);
        Assert.Contains("4 in all", browser.Find(By.CssSelector("[data-field=counts]")).Text, StringComparison.Ordinal);
        browser.Screenshot("workflow");
        // Nothing added to it: the page has no Added jobs section, and shows no "null" in its place.
        Assert.Empty(browser.FindAll(By.Id("added-title")));
        browser.AssertNoNullText();

        steps[3].FindElement(By.CssSelector($"a[href^='#/jobs/{publish}']")).Click();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "waiting", "the publish step's job");
        Assert.Contains("\"stage\": \"publish\"", browser.Find(By.CssSelector("pre[data-field=payload]")).Text, StringComparison.Ordinal);
        browser.Click(By.CssSelector($"a[data-field=batch][href^='#/batches/{workflowId}']"));
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-step]")).Count == 4, "back to the workflow from its step");

        // Unknown ids say so.
        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/workflows/batch_00000000000000000000000000000000");
        browser.Until(d => d.FindElement(By.CssSelector(".error-box")).Text.Contains("No batch or workflow", StringComparison.Ordinal), "the unknown id");
    }

    [Fact]
    public async Task AnotherTenantsWorkflow_ForAnOperator_ItsStepsRunsAfterLinkKeepsTheTenant()
    {
        // Tenant initech has no key of its own; globex's jobs are counted exactly by the access tests.
        var created = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, "/workflows?tenant=initech", """
            {"name": "initech-invoices", "steps": [
              {"name": "draft", "job": {"type": "report:generate", "payload": {"stage": "draft"}}},
              {"name": "send", "job": {"type": "report:generate", "payload": {"stage": "send"}}, "after": ["draft"]}
            ]}
            """)).RootElement;
        var workflowId = created.GetProperty("workflow_id").GetString()!;
        var draft = created.GetProperty("steps").GetProperty("draft").GetString()!;
        var send = created.GetProperty("steps").GetProperty("send").GetString()!;
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        // The operator key's own tenant is acme: every link to an initech job must name initech, or it opens a 404.
        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, $"#/workflows/{workflowId}?tenant=initech");
        var sendLink = browser.Find(By.CssSelector($"tr[data-step=send] a[href^='#/jobs/{send}']"));
        Assert.Equal($"#/jobs/{send}?tenant=initech", sendLink.GetDomAttribute("href"));
        sendLink.Click();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "waiting", "initech's send step, waiting for its draft");

        var after = browser.Find(By.CssSelector("a[data-field=after-job]"));
        Assert.Equal(draft, after.Text);
        Assert.Equal($"#/jobs/{draft}?tenant=initech", after.GetDomAttribute("href"));
        after.Click();
        browser.Until(d => d.FindElement(By.TagName("h1")).Text.Contains(draft, StringComparison.Ordinal)
            && d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the draft step's job, in initech");
        Assert.Contains("\"stage\": \"draft\"", browser.Find(By.CssSelector("pre[data-field=payload]")).Text, StringComparison.Ordinal);
        Assert.Empty(browser.FindAll(By.CssSelector(".error-box")));
    }

    [Fact]
    public async Task Workflow_ListsTheJobsAddedToIt_EachLinkingToItsJob()
    {
        var created = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, "/workflows", """
            {"name": "month-end", "steps": [{"name": "close", "job": {"type": "report:generate"}}]}
            """)).RootElement;
        var workflowId = created.GetProperty("workflow_id").GetString()!;
        var added = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, $"/batches/{workflowId}/jobs", """
            {"jobs": [{"type": "report:generate", "payload": {"late": 1}}, {"type": "report:generate", "payload": {"late": 2}}]}
            """)).RootElement.GetProperty("job_ids").EnumerateArray().Select(j => j.GetString()!).ToList();
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/workflows/" + workflowId);
        var rows = browser.Until(d => d.FindElements(By.CssSelector("tr[data-added-job]")) is { Count: 2 } r ? r : null, "the two added jobs");
        // Oldest first; the two were added at the same instant, so their order between them is the store's.
        Assert.Equal(added.Order(StringComparer.Ordinal), rows.Select(r => r.GetAttribute("data-added-job")!).Order(StringComparer.Ordinal));
        Assert.All(rows, r => Assert.Equal("QUEUED", r.GetAttribute("data-status")));
        Assert.All(rows, r => Assert.Contains("report:generate", r.Text, StringComparison.Ordinal));
        Assert.Equal("Added jobs (2)", browser.Find(By.Id("added-title")).Text);
        Assert.Single(browser.FindAll(By.CssSelector("tr[data-step]")));
        Assert.Contains("3 in all", browser.Find(By.CssSelector("[data-field=counts]")).Text, StringComparison.Ordinal);
        browser.Screenshot("workflow-added-jobs");

        browser.Click(By.CssSelector($"tr[data-added-job='{added[1]}'] a[href='#/jobs/{added[1]}']"));
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "an added job's page");
        Assert.Contains("\"late\": 2", browser.Find(By.CssSelector("pre[data-field=payload]")).Text, StringComparison.Ordinal);
    }
}
