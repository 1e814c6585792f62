using System.Text.Json;
using Conveyor.Storage;
using OpenQA.Selenium;
using OpenQA.Selenium.Interactions;

namespace Conveyor.Dashboard.Tests;

/// <summary>Keyboard use, long error messages, a phone's width and dark mode.</summary>
[Collection(DashboardCollection.Name)]
public sealed class LayoutTests(DashboardFixture fixture)
{
    [Fact]
    public void Keyboard_ReachesAndRunsTheRetryAction()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        var jobId = fixture.Seed.LongErrorJobs[0];
        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs/" + jobId);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "failed", "the failed job");
        browser.Driver.Navigate().Refresh();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "failed", "the failed job after a reload");

        // From the top of the page: the skip link comes first, then Tab walks to the job's actions.
        new Actions(browser.Driver).SendKeys(Keys.Tab).Perform();
        Assert.Equal("Skip to content", browser.Driver.SwitchTo().ActiveElement().Text);
        string? reached = null;
        for (var presses = 0; presses < 30 && reached != "retry"; presses++)
        {
            new Actions(browser.Driver).SendKeys(Keys.Tab).Perform();
            reached = browser.Driver.SwitchTo().ActiveElement().GetAttribute("data-action");
        }

        Assert.Equal("retry", reached);
        new Actions(browser.Driver).SendKeys(Keys.Enter).Perform();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the job queued again by keyboard");
    }

    [Fact]
    public void LongErrorMessages_WrapInsideThePage_AtDesktopAndPhoneWidths()
    {
        foreach (var (width, height, name) in new[] { (1280, 900, "desktop"), (390, 844, "phone") })
        {
            using var browser = Browser.Start(width, height);
            if (browser is null)
            {
                return;
            }

            browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs/" + fixture.Seed.LongErrorJobs[1]);
            var delete = browser.Find(By.CssSelector("button[data-action=delete]"));
            var message = browser.Find(By.CssSelector(".error-item .message"));
            Assert.StartsWith(SeedData.LongError, message.Text, StringComparison.Ordinal);
            Assert.True(Fits(browser), $"{name}: the job page is wider than the window");
            var right = Convert.ToDouble(browser.Script("return arguments[0].getBoundingClientRect().right;", delete), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(right <= width, $"{name}: the Delete button ends at {right}px, past the {width}px window");
            AssertRed(browser, message);
            browser.Screenshot($"job-long-error-{name}");

            browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/jobs?queue=long&status=FAILED");
            browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id] .err")).Count > 0, "the long errors in the list");
            var cell = browser.Find(By.CssSelector("tr[data-job-id] .err"));
            Assert.True(cell.Size.Height < 100, $"{name}: a long error is {cell.Size.Height}px tall in the list; it should be clipped to a few lines");
            Assert.True(Fits(browser), $"{name}: the jobs page is wider than the window (only the table may scroll)");
            AssertRed(browser, cell);

            browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/overview");
            browser.Find(By.CssSelector("tr[data-queue=critical]"));
            Assert.True(Fits(browser), $"{name}: the overview is wider than the window");
            browser.Screenshot($"overview-{name}");
        }
    }

    [Fact]
    public async Task EveryPage_FitsAPhoneOf320Pixels_OnlyItsTablesScrollSideways()
    {
        // A server of its own, with one of everything a page shows.
        await using var server = await DashboardServer.StartAsync();
        var jobId = JsonDocument.Parse(await server.SendAsync(HttpMethod.Post, "/jobs", """{"type":"report:generate","queue":"emails","payload":{"rows":100}}"""))
            .RootElement.GetProperty("job_id").GetString()!;
        var batchId = JsonDocument.Parse(await server.SendAsync(HttpMethod.Post, "/batches", """{"jobs": [{"type": "report:generate"}]}"""))
            .RootElement.GetProperty("batch_id").GetString()!;
        var workflowId = JsonDocument.Parse(await server.SendAsync(HttpMethod.Post, "/workflows", """
            {"name": "month-end", "steps": [{"name": "close", "job": {"type": "report:generate"}}, {"name": "report", "job": {"type": "report:generate"}, "after": ["close"]}]}
            """)).RootElement.GetProperty("workflow_id").GetString()!;
        await server.SendAsync(HttpMethod.Put, "/schedules/report:nightly", """{"cron":"30 2 * * *","time_zone":"Europe/Berlin","job_type":"report:generate","queue":"default"}""");
        using var browser = Browser.Start(320, 640);
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey);
        // Each page's own element, one the page before it does not have: the page is drawn when it shows.
        foreach (var (hash, drawn) in new[]
        {
            ("#/overview", "tr[data-queue=emails]"),
            ("#/jobs", "tr[data-job-id]"),
            ("#/jobs/" + jobId, "[data-field=status]"),
            ("#/batches", "#batch-id"),
            ("#/batches/" + batchId, "[data-field=counts]"),
            ("#/workflows", $"#batch-list tr[data-batch-id='{workflowId}']"),
            ("#/workflows/" + workflowId, "tr[data-step=report]"),
            ("#/schedules", "tr[data-schedule='report:nightly']"),
        })
        {
            browser.Driver.Navigate().GoToUrl(server.DashboardUrl + hash);
            browser.Find(By.CssSelector(drawn));
            Fits(browser, hash + " at 320 px");
        }
    }

    [Fact]
    public async Task TheLongestNamesTheApiAllows_KeepEveryListTableInsideItsBox_AndItsActionsOnScreen_At1280Pixels()
    {
        // A server of its own: these names would show in the shared one's lists and screenshots.
        await using var server = await DashboardServer.StartAsync();
        Assert.Equal(JobType.MaxLength, DashboardServer.LongJobType.Length);
        var schedule = Unbroken("nightly_ledger_reconciliation_", 100);
        var workflow = Unbroken("QuarterlyCloseOfTheBooksForEverySubsidiary_", 200);
        var queue = Unbroken("ledger_reconciliation_", 64);
        var type = DashboardServer.LongJobType;
        var jobId = Unbroken("job_imported_from_the_legacy_ledger_", 128);
        // First, while it is the queue's only job: an id as long as a caller may choose one (from the .NET client),
        // failed with a long error, so that every column of the Jobs list is filled.
        await FailedJobAsync(server.Store, jobId, type, queue);
        await server.SendAsync(HttpMethod.Put, "/schedules/" + schedule,
            $$"""{"cron":"*/15 6-22 * * 1-5","time_zone":"America/Argentina/Buenos_Aires","job_type":"{{type}}","queue":"{{queue}}"}""");
        // Beside them a schedule of everyday names that has run: its row must fit as well.
        await server.SendAsync(HttpMethod.Put, "/schedules/report:nightly",
            """{"cron":"30 2 * * *","time_zone":"Europe/Berlin","job_type":"report:generate","queue":"default"}""");
        await server.SendAsync(HttpMethod.Post, "/schedules/report:nightly/trigger");
        var workflowId = JsonDocument.Parse(await server.SendAsync(HttpMethod.Post, "/workflows", $$$"""
            {"name": "{{{workflow}}}", "steps": [
              {"name": "extract", "job": {"type": "{{{type}}}", "queue": "{{{queue}}}"}},
              {"name": "publish", "job": {"type": "{{{type}}}", "queue": "{{{queue}}}"}, "after": ["extract"]}
            ]}
            """)).RootElement.GetProperty("workflow_id").GetString()!;
        await server.SendAsync(HttpMethod.Post, "/jobs", $$$"""{"type":"{{{type}}}","queue":"{{{queue}}}","payload":{"n":1}}""");
        using var browser = Browser.Start(1280, 800);
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/schedules");
        var row = browser.Find(By.CssSelector($"tr[data-schedule='{schedule}']"));
        browser.Screenshot("schedules-long-names");
        AssertFitsAt1280(browser, "schedules");
        Assert.NotEmpty(row.FindElements(By.CssSelector($"[title='{schedule}']")));
        // The cron on one line: its first and last fields side by side.
        var cronTops = (string)browser.Script("""
            const code = arguments[0].querySelector("code");
            const rect = (e) => e.getBoundingClientRect();
            return `${rect(code.firstElementChild || code).top} ${rect(code.lastElementChild || code).top}`;
            """, row)!;
        Assert.True(cronTops.Split(' ').Distinct().Count() == 1, $"the cron {row.FindElement(By.TagName("code")).Text} is on more than one line (its first and last fields at {cronTops})");

        foreach (var (hash, rows, what) in new[]
        {
            ("#/workflows", $"tr[data-batch-id='{workflowId}']", "workflows"),
            ("#/batches", $"tr[data-batch-id='{workflowId}']", "batches"),
            ("#/jobs", $"tr[data-job-id='{jobId}']", "jobs"),
            ("#/jobs?queue=" + queue, $"tr[data-job-id='{jobId}']", "jobs of the long queue"),
            ("#/overview", $"tr[data-queue='{queue}']", "overview"),
            ("#/workflows/" + workflowId, "tr[data-step=publish]", "workflow"),
        })
        {
            browser.Driver.Navigate().GoToUrl(server.DashboardUrl + hash);
            browser.Until(d => d.FindElements(By.CssSelector(rows)).Count > 0, what);
            browser.Screenshot(what.Replace(' ', '-') + "-long-names");
            AssertFitsAt1280(browser, what);
        }
    }

    /// <summary>
    /// Every table's scrolling box holds its table without scrolling, and every button in a table is inside the window.
    /// </summary>
    private static void AssertFitsAt1280(Browser browser, string page)
    {
        var problems = (IEnumerable<object>)browser.Script("""
            const width = document.documentElement.clientWidth;
            const found = [...document.querySelectorAll("main .scroll")].filter(s => s.scrollWidth > s.clientWidth)
              .map(s => `a table ${s.scrollWidth}px wide in a ${s.clientWidth}px box (${s.querySelector("caption")?.textContent}; columns ${
                [...s.querySelectorAll("thead th")].map(th => `${th.textContent || "-"} ${Math.round(th.getBoundingClientRect().width)}`).join(", ")})`);
            for (const b of document.querySelectorAll("main table button")) {
              const r = b.getBoundingClientRect();
              if (r.left < 0 || r.right > width) found.push(`button ${b.textContent} at ${Math.round(r.left)}-${Math.round(r.right)}px`);
            }
            if (document.documentElement.scrollWidth > width) found.push(`the page is ${document.documentElement.scrollWidth}px wide`);
            return found;
            """)!;
        Assert.True(!problems.Any(), $"{page} at {browser.Script("return innerWidth;")}px: " + string.Join("; ", problems));
    }

    /// <summary>
    /// A text of exactly <paramref name="length"/> characters where a browser finds no place to break a line (no space,
    /// no hyphen): the part repeated and cut.
    /// </summary>
    private static string Unbroken(string part, int length) => string.Concat(Enumerable.Repeat(part, (length / part.Length) + 1))[..length];

    private static async Task FailedJobAsync(IJobStore store, string id, string type, string queue)
    {
        await store.EnqueueManyAsync([new NewJob { Id = id, Type = type, Queue = queue, Tenant = "acme", Payload = "{}"u8.ToArray(), MaxRetry = 0, Retention = TimeSpan.FromDays(1) }], CancellationToken.None);
        var leased = Assert.Single(await store.DequeueAsync(new DequeueRequest
        {
            Queues = [new QueueQuota(queue, 1)],
            Limit = 1,
            ServerId = "worker-eu-1:4242",
            LeaseDuration = TimeSpan.FromMinutes(5),
        }, CancellationToken.None));
        await store.AcknowledgeManyAsync([new JobAcknowledgement
        {
            JobId = leased.Id,
            LeaseToken = leased.LeaseToken,
            Outcome = AckOutcome.Failed,
            Error = new JobError(1, SeedData.LongError + string.Concat(Enumerable.Repeat("account-0123456789-rejected;", 40)), "Ledger.BatchRejectedException", null, DateTimeOffset.UtcNow),
        }], CancellationToken.None);
    }

    [Fact]
    public void DarkMode_FollowsTheSystemSetting()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.Driver.ExecuteCdpCommand("Emulation.setEmulatedMedia", new Dictionary<string, object?>
        {
            ["features"] = new[] { new Dictionary<string, object?> { ["name"] = "prefers-color-scheme", ["value"] = "dark" } },
        });
        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey);
        browser.Find(By.CssSelector("tr[data-queue=critical]"));
        var background = (string)browser.Script("return getComputedStyle(document.body).backgroundColor;")!;
        Assert.Equal("rgb(13, 17, 23)", background);
        browser.Screenshot("overview-dark");

        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/jobs/" + fixture.Seed.LongErrorJobs[2]);
        AssertRed(browser, browser.Find(By.CssSelector(".error-item .message")));
        browser.Screenshot("job-detail-dark");
    }

    private static bool Fits(Browser browser, string page = "")
    {
        var overflow = (string)browser.Script("""
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return "";
            return [...document.querySelectorAll("body *")].filter(e => !e.closest(".scroll") && e.getBoundingClientRect().right > width + 1)
              .slice(0, 5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ") || `? scrollWidth ${document.documentElement.scrollWidth}, clientWidth ${width}, innerWidth ${innerWidth}, body ${document.body.scrollWidth}, scroll boxes ${[...document.querySelectorAll(".scroll")].map(e => Math.round(e.getBoundingClientRect().right) + "/" + e.scrollWidth).join(" ")}`;
            """)!;
        Assert.True(overflow.Length == 0, page + " wider than the window: " + overflow);
        return true;
    }

    /// <summary>Error text is red (clearly more red than green or blue), never grey.</summary>
    private static void AssertRed(Browser browser, IWebElement element)
    {
        var color = (string)browser.Script("return getComputedStyle(arguments[0]).color;", element)!;
        var parts = color.Replace("rgb(", "", StringComparison.Ordinal).Replace("rgba(", "", StringComparison.Ordinal).TrimEnd(')').Split(',').Select(p => double.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(parts[0] > parts[1] + 60 && parts[0] > parts[2] + 60, $"error text is {color}, not red");
    }
}
