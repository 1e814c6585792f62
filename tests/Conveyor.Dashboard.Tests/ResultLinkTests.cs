using System.Text;
using Conveyor.Storage;
using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// A job's result URL on a server with API keys: the browser would follow the link without the key and show the
/// API's 401, so the dashboard fetches a link to its own server with the key (and never a link to another).
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class ResultLinkTests
{
    [Fact]
    public async Task ResultUrl_OnThisServer_IsFetchedWithTheKey_SavedOrShown_AndAnotherOriginsStaysAPlainLink()
    {
        await using var server = await DashboardServer.StartAsync();
        var report = await SucceededJobAsync(server.Store, "report:generate", id => $"/reports/{id}.csv");
        var import = await SucceededJobAsync(server.Store, "bulk:import", _ => "/inventory");
        var missing = await SucceededJobAsync(server.Store, "report:generate", _ => "/reports/no-such-report.csv");
        // localhost is another origin than the page's 127.0.0.1, though the same server answers it.
        var elsewhere = await SucceededJobAsync(server.Store, "report:generate", id => $"http://localhost:{server.Address.Port}/reports/{id}.csv");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        var downloads = Directory.CreateTempSubdirectory("conveyor-dashboard-downloads-");
        try
        {
            // Headless Chromium refuses downloads unless told where to put them.
            browser.Driver.ExecuteCdpCommand("Browser.setDownloadBehavior", new Dictionary<string, object?>
            {
                ["behavior"] = "allow",
                ["downloadPath"] = downloads.FullName,
            });
            browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/jobs/" + report);
            browser.Find(By.CssSelector("[data-field=status]"));
            // The job's page asked the API before the key was typed in: those 401s are not this test's.
            browser.ConsoleErrors();

            // A file: saved under the name the server gave, with the server's bytes (a plain link got a 401).
            browser.Click(By.CssSelector("a[data-field=result-url]"));
            var saved = Path.Combine(downloads.FullName, DashboardServer.ReportFileName(report));
            browser.Until(_ => File.Exists(saved), "the report saved as " + saved);
            browser.Until(_ => File.ReadAllText(saved) == DashboardServer.ReportCsv(report), "the report's whole content");
            Assert.Equal(server.DashboardUrl + "#/jobs/" + report, browser.Driver.Url);

            // JSON: shown on the page.
            browser.Driver.Navigate().GoToUrl(server.DashboardUrl + "#/jobs/" + import);
            browser.Click(By.CssSelector("a[data-field=result-url]"));
            var json = browser.Find(By.CssSelector("pre[data-field=result-url-json]")).Text;
            Assert.Contains("\"sku\": \"SKU-0002\"", json, StringComparison.Ordinal);
            // The page's Content-Security-Policy allowed both (a refused fetch or blob: would be an error here).
            Assert.Empty(browser.ConsoleErrors());

            // A refusal: said in the dashboard's error line, not a problem page in place of the dashboard.
            browser.Driver.Navigate().GoToUrl(server.DashboardUrl + "#/jobs/" + missing);
            browser.Click(By.CssSelector("a[data-field=result-url]"));
            Assert.Contains("There is no finished report 'no-such-report'", browser.Find(By.CssSelector("#notice .msg.error")).Text, StringComparison.Ordinal);

            // Another origin: followed as a plain link, so the key is not sent there (its answer is the API's 401).
            browser.Driver.Navigate().GoToUrl(server.DashboardUrl + "#/jobs/" + elsewhere);
            browser.Click(By.CssSelector("a[data-field=result-url]"));
            browser.Until(d => d.Url.StartsWith("http://localhost:", StringComparison.Ordinal), "the browser to follow the link to the other origin");
            Assert.Single(downloads.EnumerateFiles());
        }
        finally
        {
            downloads.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ResultUrl_OfAnotherScheme_IsShownAsText_NeverALink_AndAnHttpsOneIsALink()
    {
        await using var server = await DashboardServer.StartAsync();
        const string script = "javascript:alert(document.domain)";
        // What a handler may store (SetResultUrl takes any text): a script, a script behind blanks and mixed case (as
        // a browser reads it), a page written into the address, and a link to another server.
        var scripted = await SucceededJobAsync(server.Store, "report:generate", _ => script);
        var disguised = await SucceededJobAsync(server.Store, "report:generate", _ => " JavaScript:alert(1)");
        var inline = await SucceededJobAsync(server.Store, "report:generate", _ => "data:text/html,<script>alert(1)</script>");
        var https = await SucceededJobAsync(server.Store, "report:generate", id => $"https://reports.example.com/{id}.csv");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey, "#/jobs/" + scripted);
        foreach (var (id, url) in new[] { (scripted, script), (disguised, " JavaScript:alert(1)"), (inline, "data:text/html,<script>alert(1)</script>") })
        {
            browser.Driver.Navigate().GoToUrl(server.DashboardUrl + "#/jobs/" + id);
            browser.Until(d => d.FindElement(By.CssSelector("h1")).Text.Contains(id, StringComparison.Ordinal) && d.FindElements(By.CssSelector("[data-field=result-url]")).Count == 1, "the result URL of " + id);
            var shown = browser.Find(By.CssSelector("[data-field=result-url]"));
            Assert.NotEqual("a", shown.TagName);
            Assert.Equal(url.Trim(), shown.Text);
            var links = (IEnumerable<object>)browser.Script("return [...document.querySelectorAll('a[href]')].map(a => a.href).filter(h => !/^(https?|blob):/.test(h));")!;
            Assert.Empty(links);
        }

        browser.Driver.Navigate().GoToUrl(server.DashboardUrl + "#/jobs/" + https);
        var link = browser.Until(d => d.FindElements(By.CssSelector("a[data-field=result-url]")).FirstOrDefault(), "the https result URL as a link");
        Assert.Equal($"https://reports.example.com/{https}.csv", link.GetDomAttribute("href"));
    }

    /// <summary>A job of the operator key's tenant (acme) that succeeded with the given result_url, as a worker leaves it.</summary>
    private static async Task<string> SucceededJobAsync(IJobStore store, string type, Func<string, string> resultUrl)
    {
        var id = JobId.New();
        const string queue = "results";
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
            Outcome = AckOutcome.Succeeded,
            Result = Encoding.UTF8.GetBytes("""{"rows":2}"""),
            ResultUrl = resultUrl(id),
        }], CancellationToken.None);
        return id;
    }
}
