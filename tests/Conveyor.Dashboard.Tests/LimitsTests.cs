using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>The limits in force on each queue, on the overview's queue table: read-only, in words.</summary>
[Collection(DashboardCollection.Name)]
public sealed class LimitsTests(DashboardFixture fixture)
{
    [Fact]
    public void Overview_ShowsTheLimitsOfEachQueue()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey);
        var concurrency = browser.Find(By.CssSelector("tr[data-queue=critical] [data-limit='concurrency:charges-per-tenant']"));
        var rate = browser.Find(By.CssSelector("tr[data-queue=critical] [data-limit='rate:gateway']"));

        Assert.Equal("5 running per tenant", concurrency.Text);
        Assert.Equal("100 / 1 s, burst 20 (billing:charge)", rate.Text);
        Assert.Contains("from api", rate.GetAttribute("title"), StringComparison.Ordinal);
        Assert.Empty(browser.FindAll(By.CssSelector("tr[data-queue=emails] [data-limit]")));
    }
}
