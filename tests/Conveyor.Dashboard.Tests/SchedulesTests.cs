using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>The schedules page: what each schedule will do and did, and pause, resume and trigger.</summary>
[Collection(DashboardCollection.Name)]
public sealed class SchedulesTests(DashboardFixture fixture)
{
    [Fact]
    public async Task Schedule_ShowsCronZoneAndNextFires_AndPausesResumesAndTriggers()
    {
        await fixture.Server.SendAsync(HttpMethod.Put, "/schedules/report:nightly",
            """{"cron":"30 2 * * *","time_zone":"Europe/Berlin","job_type":"report:generate","payload":{"rows":100},"queue":"default"}""");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/schedules");
        var row = browser.Find(By.CssSelector("tr[data-schedule='report:nightly']"));
        Assert.Contains("30 2 * * *", row.Text, StringComparison.Ordinal);
        Assert.Contains("Europe/Berlin", row.Text, StringComparison.Ordinal);
        Assert.Contains("never", row.Text, StringComparison.Ordinal);
        Assert.Equal(3, row.FindElements(By.CssSelector("ul li time")).Count);

        row.FindElement(By.CssSelector("button[data-action=pause]")).Click();
        browser.Until(d => d.FindElement(By.CssSelector("tr[data-schedule='report:nightly']")).Text.Contains("paused", StringComparison.Ordinal), "the schedule paused");
        Assert.Contains("none", browser.Find(By.CssSelector("tr[data-schedule='report:nightly']")).Text, StringComparison.Ordinal);

        browser.Click(By.CssSelector("tr[data-schedule='report:nightly'] button[data-action=trigger]"));
        browser.Until(d => d.FindElement(By.Id("notice")).Text.Contains("Schedule report:nightly enqueued job job_", StringComparison.Ordinal), "the triggered job");
        var lastRun = browser.Until(d => d.FindElement(By.CssSelector("tr[data-schedule='report:nightly']")).FindElements(By.CssSelector("a[href^='#/jobs/job_']")).FirstOrDefault(), "the last run's job");
        Assert.Equal("queued", lastRun.Text);

        browser.Click(By.CssSelector("tr[data-schedule='report:nightly'] button[data-action=resume]"));
        browser.Until(d => d.FindElement(By.CssSelector("tr[data-schedule='report:nightly']")).Text.Contains("active", StringComparison.Ordinal), "the schedule resumed");
        browser.Screenshot("schedules");

        browser.Click(By.CssSelector("tr[data-schedule='report:nightly'] a[href^='#/jobs/job_']"));
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the schedule's job");
        Assert.Contains("\"rows\": 100", browser.Find(By.CssSelector("pre[data-field=payload]")).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOperator_SeesAnotherTenantsScheduleWithItsTenant_AndPausesItThere_ATenantKeySeesOnlyItsOwn()
    {
        await fixture.Server.SendAsync(HttpMethod.Put, "/schedules/sync:hourly", """{"cron":"0 * * * *","job_type":"report:generate","payload":{"rows":1}}""", DashboardServer.TenantKey);
        await fixture.Server.SendAsync(HttpMethod.Put, "/schedules/report:weekly", """{"cron":"0 6 * * 1","job_type":"report:generate","payload":{"rows":1}}""");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/schedules");
        var row = browser.Find(By.CssSelector("tr[data-schedule='sync:hourly']"));
        Assert.Equal("globex", row.FindElement(By.CssSelector("td")).Text);
        row.FindElement(By.CssSelector("button[data-action=pause]")).Click();
        browser.Until(d => d.FindElement(By.CssSelector("tr[data-schedule='sync:hourly']")).Text.Contains("paused", StringComparison.Ordinal), "the other tenant's schedule paused");
        Assert.Contains("\"paused\":true", await fixture.Server.SendAsync(HttpMethod.Get, "/schedules/sync:hourly", key: DashboardServer.TenantKey), StringComparison.Ordinal);
        await fixture.Server.SendAsync(HttpMethod.Post, "/schedules/sync:hourly/resume", key: DashboardServer.TenantKey);

        browser.OpenDashboard(fixture.Server, DashboardServer.TenantKey, "#/schedules");
        browser.Find(By.CssSelector("tr[data-schedule='sync:hourly']"));
        Assert.Empty(browser.FindAll(By.CssSelector("tr[data-schedule='report:weekly']")));
        Assert.DoesNotContain("tenant", browser.Find(By.CssSelector("thead")).Text, StringComparison.Ordinal);
    }
}
