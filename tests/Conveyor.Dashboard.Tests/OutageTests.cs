using System.Text.Json;
using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// A followed page whose reads fail for a while (the store gone, the network cut) keeps what it drew under the reason,
/// goes on reading, and takes the reason away once a read succeeds. The API is cut off in the browser (Chromium's
/// blocked URLs): the pages meet a failed read as they meet a 503.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class OutageTests(DashboardFixture fixture)
{
    [Fact]
    public async Task JobPage_AfterReadsFailed_FollowsTheJobAgain_AndDropsTheReason()
    {
        var id = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, "/jobs", """{"type": "report:generate", "queue": "outage-job"}"""))
            .RootElement.GetProperty("job_id").GetString()!;
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs/" + id);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the job, queued");

        Block(browser, "*/jobs/" + id + "*");
        browser.Find(By.CssSelector("[data-outage]"));
        Assert.Equal("queued", browser.Find(By.CssSelector("[data-field=status]")).Text);
        await fixture.Server.SendAsync(HttpMethod.Post, $"/jobs/{id}/cancel");
        Block(browser);

        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "cancelled", "the job read again, cancelled");
        Assert.Empty(browser.FindAll(By.CssSelector("[data-outage]")));
    }

    [Fact]
    public async Task BatchPage_AfterReadsFailed_FollowsTheBatchAgain_AndDropsTheReason()
    {
        var batchId = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, "/batches",
            """{"jobs": [{"type": "report:generate", "queue": "outage-batch"}, {"type": "report:generate", "queue": "outage-batch"}]}"""))
            .RootElement.GetProperty("batch_id").GetString()!;
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/batches/" + batchId);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "running", "the batch, running");

        Block(browser, "*/batches/" + batchId + "*");
        browser.Find(By.CssSelector("[data-outage]"));
        await fixture.Server.SendAsync(HttpMethod.Post, $"/batches/{batchId}/cancel");
        Block(browser);

        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "cancelled", "the batch read again, cancelled");
        Assert.Empty(browser.FindAll(By.CssSelector("[data-outage]")));
    }

    [Fact]
    public void Overview_AfterAFailedRefresh_DropsTheReasonOnceARefreshSucceeds()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/overview");
        browser.Find(By.CssSelector("tr[data-queue]"));

        Block(browser, "*/servers*");
        browser.Until(d => d.FindElement(By.Id("notice")).Text.StartsWith("Servers:", StringComparison.Ordinal), "the failed refresh's reason");
        Block(browser);

        browser.Until(d => d.FindElement(By.Id("notice")).Text.Length == 0, "the reason gone after a refresh that succeeded");
    }

    /// <summary>Makes the browser fail every request to a URL matching one of <paramref name="patterns"/> (none: every request goes again).</summary>
    private static void Block(Browser browser, params string[] patterns)
    {
        browser.Driver.ExecuteCdpCommand("Network.enable", new Dictionary<string, object?>());
        browser.Driver.ExecuteCdpCommand("Network.setBlockedURLs", new Dictionary<string, object?> { ["urls"] = patterns });
    }
}
