using System.Collections.ObjectModel;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// Headless Chromium from Debian (<c>chromium</c>, <c>chromium-driver</c>; eng/services/chromium.sh installs them),
/// driven through Selenium WebDriver. Waits are conditions with a deadline, never sleeps.
/// </summary>
internal sealed class Browser : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private Browser(ChromeDriver driver) => Driver = driver;

    public ChromeDriver Driver { get; }

    /// <summary>
    /// A new browser window of the given size; null (the test returns early) when Chromium is not installed, except in
    /// CI (<c>CI=true</c>), where a missing browser fails the test.
    /// </summary>
    public static Browser? Start(int width = 1280, int height = 900)
    {
        var chromium = Environment.GetEnvironmentVariable("CONVEYOR_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium";
        var chromedriver = Environment.GetEnvironmentVariable("CONVEYOR_CHROMEDRIVER") is { Length: > 0 } d ? d : "/usr/bin/chromedriver";
        if (!File.Exists(chromium) || !File.Exists(chromedriver))
        {
            Assert.False(
                string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                $"Chromium ({chromium}) or its driver ({chromedriver}) is missing: the test command installs them (eng/services/chromium.sh).");
            return null;
        }

        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(chromedriver)!, Path.GetFileName(chromedriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=en-US",
            "--disable-extensions", "--no-first-run", $"--window-size={width},{height}");
        // The console (and the network errors Chromium writes there, such as a 404 or a 403) for ConsoleErrors().
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(60);
        if (width < 600)
        {
            // A desktop window cannot be narrower than about 500 px: emulate the phone's screen instead.
            driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
            {
                ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = true,
            });
        }

        return new Browser(driver);
    }

    /// <summary>Opens the dashboard and uses the API key (as a person would: types it and presses Use key).</summary>
    public void OpenDashboard(DashboardServer server, string key, string hash = "#/overview")
    {
        Driver.Navigate().GoToUrl(server.DashboardUrl + hash);
        var input = Find(By.Id("key"));
        input.Clear();
        input.SendKeys(key);
        Find(By.CssSelector("#key-form button[type=submit]")).Click();
        Until(d => d.FindElement(By.Id("whoami")).Text.Length > 0, "the caller's role to show");
    }

    public IWebElement Find(By by) => Until(d => d.FindElement(by) is { Displayed: true } e ? e : null, by.ToString());

    /// <summary>
    /// Finds and clicks, again while the element goes stale between the two: the pages redraw on their refresh, so an
    /// element found a moment before may be gone by the click.
    /// </summary>
    public void Click(By by) => Until(
        d =>
        {
            if (d.FindElement(by) is not { Displayed: true } element)
            {
                return false;
            }

            element.Click();
            return true;
        },
        "to click " + by);

    public ReadOnlyCollection<IWebElement> FindAll(By by) => Driver.FindElements(by);

    /// <summary>Waits until <paramref name="condition"/> returns a value that is not null.</summary>
    public T Until<T>(Func<IWebDriver, T?> condition, string what)
        where T : class => NewWait(what).Until(condition)!;

    /// <summary>Waits until <paramref name="condition"/> is true.</summary>
    public void Until(Func<IWebDriver, bool> condition, string what) => NewWait(what).Until(condition);

    private WebDriverWait NewWait(string what)
    {
        var wait = new WebDriverWait(Driver, Timeout) { Message = "waiting for " + what };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait;
    }

    public object? Script(string script, params object[] args) => Driver.ExecuteScript(script, args);

    /// <summary>
    /// The errors in the browser's console since the last call: the page's own and the network's (a request answered
    /// 4xx or 5xx, the page's icon included), each as Chromium wrote it.
    /// </summary>
    public IReadOnlyList<string> ConsoleErrors() =>
        Driver.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level == LogLevel.Severe).Select(e => e.Message).ToList();

    /// <summary>The requests of this document (scripts, styles, the API's) that were answered 4xx or 5xx, as "403 http://…".</summary>
    public IReadOnlyList<string> FailedRequests() =>
        ((IEnumerable<object>)Script("""
            return performance.getEntriesByType("resource")
              .filter((e) => e.responseStatus >= 400)
              .map((e) => e.responseStatus + " " + e.name);
            """)!).Select(o => (string)o).ToList();

    /// <summary>
    /// Fails when the page shows a value the DOM wrote as text because a part it does not have was passed as null or
    /// undefined ("null", "undefined"); JSON shown as JSON (in pre and code) is left alone.
    /// </summary>
    public void AssertNoNullText()
    {
        var found = (IEnumerable<object>)Script("""
            const walker = document.createTreeWalker(document.getElementById("main"), NodeFilter.SHOW_TEXT);
            const found = [];
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              if (["null", "undefined"].includes(node.nodeValue.trim()) && !node.parentElement.closest("pre, code")) {
                const before = node.previousSibling;
                found.push(`"${node.nodeValue}" in <${node.parentElement.tagName.toLowerCase()}>, after ${before ? (before.outerHTML || before.nodeValue).slice(0, 80) : "nothing"}`);
              }
            }
            return found;
            """)!;
        Assert.True(!found.Any(), "text the page did not mean to show: " + string.Join(" | ", found));
    }

    /// <summary>Saves a PNG of the window under the test results (artifacts/test-results/dashboard-screenshots).</summary>
    public string Screenshot(string name)
    {
        var directory = ScreenshotDirectory();
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    private static string ScreenshotDirectory()
    {
        if (Environment.GetEnvironmentVariable("CONVEYOR_SCREENSHOTS") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Conveyor.slnx")))
            {
                return Path.Combine(dir.FullName, "artifacts", "test-results", "dashboard-screenshots");
            }
        }

        return Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
