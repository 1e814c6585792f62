using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Interactions;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// Where the keyboard focus goes: the skip link on every page, and after each action taken from the keyboard (it stays
/// on the control, or on what replaced it, never on the page's body); and the names of a confirmation's two buttons.
/// Each test has a server of its own: its actions change jobs, queues and schedules the shared one's tests count.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class KeyboardFocusTests
{
    [Fact]
    public async Task SkipToContent_MovesTheFocusToTheContent_AndKeepsThePageAndItsFilters()
    {
        await using var server = await DashboardServer.StartAsync();
        var jobId = await server.EnqueueReportAsync("emails");
        var workflowId = JsonDocument.Parse(await server.SendAsync(HttpMethod.Post, "/workflows", """
            {"name": "month-end", "steps": [{"name": "close", "job": {"type": "report:generate"}}]}
            """)).RootElement.GetProperty("workflow_id").GetString()!;
        await server.SendAsync(HttpMethod.Put, "/schedules/report:nightly", """{"cron":"30 2 * * *","job_type":"report:generate","queue":"default"}""");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey);
        foreach (var hash in new[] { "#/jobs?status=QUEUED&queue=emails&tenant=acme&limit=25", "#/jobs/" + jobId, "#/schedules", "#/workflows/" + workflowId })
        {
            browser.Driver.Navigate().GoToUrl(server.DashboardUrl + hash);
            browser.Driver.Navigate().Refresh();
            browser.Until(d => d.FindElement(By.TagName("body")).GetAttribute("data-ready") is { Length: > 0 }, hash + " drawn");
            var heading = browser.Find(By.TagName("h1")).Text;

            new Actions(browser.Driver).SendKeys(Keys.Tab).Perform();
            Assert.Equal("Skip to content", browser.Driver.SwitchTo().ActiveElement().Text);
            new Actions(browser.Driver).SendKeys(Keys.Enter).Perform();

            Assert.Equal(hash, (string)browser.Script("return location.hash;")!);
            Assert.Equal("main", browser.Driver.SwitchTo().ActiveElement().GetAttribute("id"));
            Assert.Equal(heading, browser.Find(By.TagName("h1")).Text);
            // The next Tab goes on inside the content, past the header's links and key form.
            new Actions(browser.Driver).SendKeys(Keys.Tab).Perform();
            Assert.True((bool)browser.Script("return document.getElementById('main').contains(document.activeElement);")!, $"{hash}: Tab after the skip link went to {Focused(browser)}");
        }
    }

    [Fact]
    public async Task QueuePauseAndResume_KeepTheFocusOnTheQueuesButton()
    {
        await using var server = await DashboardServer.StartAsync();
        await server.EnqueueReportAsync("emails");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey);
        Press(browser, "tr[data-queue=emails] button[data-action=pause]", Keys.Enter);
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-queue=emails] .s-paused")).Count == 1, "the queue paused");
        AssertFocusOn(browser, "tr[data-queue=emails] button[data-action=resume]");

        new Actions(browser.Driver).SendKeys(Keys.Enter).Perform();
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-queue=emails] .s-active")).Count == 1, "the queue resumed");
        AssertFocusOn(browser, "tr[data-queue=emails] button[data-action=pause]");
    }

    [Fact]
    public async Task JobCancelAndRetry_LeaveTheFocusOnTheJobsActions()
    {
        await using var server = await DashboardServer.StartAsync();
        var jobId = await server.EnqueueReportAsync("emails");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/jobs/" + jobId);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the queued job");
        Press(browser, "button[data-action=cancel]", Keys.Enter);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "cancelled", "the job cancelled");
        // Cancel is gone with the state that allowed it: the focus is on the first action left, Retry.
        AssertFocusOn(browser, "button[data-action=retry]");

        new Actions(browser.Driver).SendKeys(Keys.Enter).Perform();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the job queued again");
        AssertFocusOn(browser, "button[data-action=cancel]");
    }

    [Fact]
    public async Task SchedulePauseAndTriggerNow_KeepTheFocusOnTheSchedulesButtons()
    {
        await using var server = await DashboardServer.StartAsync();
        await server.SendAsync(HttpMethod.Put, "/schedules/report:nightly", """{"cron":"30 2 * * *","job_type":"report:generate","queue":"default"}""");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/schedules");
        const string row = "tr[data-schedule='report:nightly']";
        Press(browser, row + " button[data-action=pause]", Keys.Enter);
        browser.Until(d => d.FindElements(By.CssSelector(row + " .s-paused")).Count == 1, "the schedule paused");
        AssertFocusOn(browser, row + " button[data-action=resume]");

        Press(browser, row + " button[data-action=trigger]", Keys.Enter);
        browser.Until(d => d.FindElement(By.CssSelector(row)).FindElements(By.CssSelector("a[href^='#/jobs/job_']")).Count == 1, "the triggered job");
        AssertFocusOn(browser, row + " button[data-action=trigger]");
    }

    [Fact]
    public async Task SelectAllWithSpace_KeepsTheFocus_AndABulkCancel_AsksWithButtonsThatSayWhatTheyDo()
    {
        await using var server = await DashboardServer.StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await server.EnqueueReportAsync("emails"));
        }

        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/jobs?status=QUEUED&queue=emails");
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")).Count == 3, "the three queued jobs");
        Press(browser, "#select-page", Keys.Space);
        browser.Until(d => d.FindElement(By.CssSelector(".bulk")).Text.Contains("Selected: 3", StringComparison.Ordinal), "the page selected");
        Assert.All(browser.FindAll(By.CssSelector("input[data-select]")), box => Assert.True(box.Selected));
        AssertFocusOn(browser, "#select-page");
        new Actions(browser.Driver).SendKeys(Keys.Space).Perform();
        browser.Until(d => d.FindElement(By.CssSelector(".bulk")).Text.Contains("Selected: 0", StringComparison.Ordinal), "the page unselected");
        AssertFocusOn(browser, "#select-page");

        Press(browser, $"input[data-select='{ids[0]}']", Keys.Space);
        browser.Until(d => d.FindElement(By.CssSelector(".bulk")).Text.Contains("Selected: 1", StringComparison.Ordinal), "one job selected");
        Press(browser, "button[data-bulk=cancel-selection]", Keys.Enter);
        var dialog = browser.Find(By.CssSelector("dialog[open]"));
        Assert.Contains("Cancel 1 selected job?", dialog.Text, StringComparison.Ordinal);
        Assert.Equal(["Back", "Cancel 1 job"], dialog.FindElements(By.TagName("button")).Select(b => b.Text).ToArray());
        AssertFocusOn(browser, "dialog[open] button[data-confirm]");
        new Actions(browser.Driver).SendKeys(Keys.Enter).Perform();
        browser.Until(d => d.FindElement(By.Id("notice")).Text.Contains("Bulk cancel done: 1 matched, 1 cancelled", StringComparison.Ordinal), "the bulk summary");
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")).Count == 2, "the cancelled job to leave the queued list");
        // The button acted on is disabled now (nothing selected): the focus is on the bulk panel around it.
        AssertFocusOn(browser, ".bulk");
    }

    [Fact]
    public async Task BatchCancel_AsksWithButtonsThatSayWhatTheyDo_AndKeepsTheFocusOnThePage()
    {
        await using var server = await DashboardServer.StartAsync();
        var batchId = JsonDocument.Parse(await server.SendAsync(HttpMethod.Post, "/batches", """{"jobs": [{"type": "report:generate"}]}"""))
            .RootElement.GetProperty("batch_id").GetString()!;
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/batches/" + batchId);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "running", "the running batch");
        Press(browser, "button[data-action=cancel]", Keys.Enter);
        var dialog = browser.Find(By.CssSelector("dialog[open]"));
        Assert.Equal(["Back", "Cancel batch"], dialog.FindElements(By.TagName("button")).Select(b => b.Text).ToArray());
        new Actions(browser.Driver).SendKeys(Keys.Enter).Perform();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "cancelled", "the batch cancelled");
        // Cancel went with the running state: the focus is on the page's heading, above the new status.
        AssertFocusOn(browser, "h1");
    }

    /// <summary>Focuses the element as Tab would, then presses the key on it.</summary>
    private static void Press(Browser browser, string selector, string key)
    {
        browser.Script("arguments[0].focus();", browser.Find(By.CssSelector(selector)));
        new Actions(browser.Driver).SendKeys(key).Perform();
    }

    /// <summary>Waits until the focus is on the element (the page draws again after an action, then gives it back).</summary>
    private static void AssertFocusOn(Browser browser, string selector)
    {
        try
        {
            browser.Until(_ => (bool)browser.Script("return document.activeElement === document.querySelector(arguments[0]);", selector)!, "the focus on " + selector);
        }
        catch (WebDriverTimeoutException)
        {
            Assert.Fail($"the focus is on {Focused(browser)}, not on {selector}");
        }
    }

    private static string Focused(Browser browser) => (string)browser.Script(
        "const e = document.activeElement; return !e || e === document.body ? 'the page (body)' : e.outerHTML.slice(0, 160);")!;
}
