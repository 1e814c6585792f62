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

    private static bool Fits(Browser browser)
    {
        var overflow = (string)browser.Script("""
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return "";
            return [...document.querySelectorAll("body *")].filter(e => !e.closest(".scroll") && e.getBoundingClientRect().right > width + 1)
              .slice(0, 5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ") || `? scrollWidth ${document.documentElement.scrollWidth}, clientWidth ${width}, innerWidth ${innerWidth}, body ${document.body.scrollWidth}, scroll boxes ${[...document.querySelectorAll(".scroll")].map(e => Math.round(e.getBoundingClientRect().right) + "/" + e.scrollWidth).join(" ")}`;
            """)!;
        Assert.True(overflow.Length == 0, "wider than the window: " + overflow);
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
