using OpenQA.Selenium;
using OpenQA.Selenium.Interactions;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// An action button pressed from the keyboard while its POST is in flight: the page draws again every 2 seconds and the
/// focus moves to the replacement button, which must refuse a second Enter as the pressed one does, or the action is
/// sent twice. The browser's fetch holds the POST until the test lets it go. A server of its own: it pauses a queue.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class ActionInFlightTests
{
    private const string Button = "tr[data-queue=emails] button[data-focus-key='queue:emails']";

    [Fact]
    public async Task QueuePause_DrawnAgainWhileItsPostIsInFlight_TheReplacementRefusesASecondEnter()
    {
        await using var server = await DashboardServer.StartAsync();
        await server.EnqueueReportAsync("emails");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey);
        browser.Find(By.CssSelector(Button));
        browser.Script("""
            window.pausePosts = 0;
            let release;
            const gate = new Promise((resolve) => { release = resolve; });
            window.releasePauses = release;
            const fetch = window.fetch;
            window.fetch = async (input, init) => {
              if (init && init.method === "POST" && String(input).endsWith("/queues/emails/pause")) {
                window.pausePosts++;
                await gate;
              }
              return fetch(input, init);
            };
            """);
        browser.Script("window.pressed = arguments[0]; arguments[0].focus();", browser.Find(By.CssSelector(Button)));
        new Actions(browser.Driver).SendKeys(Keys.Enter).Perform();
        browser.Until(_ => Convert.ToInt64(browser.Script("return window.pausePosts;")) == 1, "the pause POST in flight");

        // Another job in the queue changes its row: the overview draws it again, with a new button, while the POST waits.
        await server.EnqueueReportAsync("emails");
        browser.Until(_ => (bool)browser.Script("const b = document.querySelector(arguments[0]); return !!b && b !== window.pressed && document.activeElement === b;", Button)!,
            "the queue's row drawn again, with the focus on its new button");
        Assert.Equal("true", browser.Find(By.CssSelector(Button)).GetAttribute("aria-disabled"));
        new Actions(browser.Driver).SendKeys(Keys.Enter).Perform();
        Assert.Equal(1L, Convert.ToInt64(browser.Script("return window.pausePosts;")));

        browser.Script("window.releasePauses();");
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-queue=emails] .s-paused")).Count == 1, "the queue paused");
        Assert.Equal(1L, Convert.ToInt64(browser.Script("return window.pausePosts;")));
        // The action over, the button (Resume now) takes presses again.
        browser.Until(_ => browser.Find(By.CssSelector(Button)).GetAttribute("aria-disabled") is null, "the button enabled again");
    }
}
