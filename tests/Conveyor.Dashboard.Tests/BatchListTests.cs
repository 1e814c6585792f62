using System.Text.Json;
using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// The Batches and Workflows lists: every tenant's for an operator, or a tenant's, newest first, by status, each row
/// linking to the batch's or workflow's page in its tenant, the tenant kept in the status tabs.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class BatchListTests(DashboardFixture fixture)
{
    // A tenant of its own: the other tests' batches are the operator's tenant's.
    private const string Tenant = "hooli";

    [Fact]
    public async Task AnotherTenantsBatchesAndWorkflows_ForAnOperator_ListedNewestFirst_LinkingInTheirTenant()
    {
        var batch = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, $"/batches?tenant={Tenant}",
            """{"jobs": [{"type": "report:generate", "payload": {"part": 1}}]}""")).RootElement.GetProperty("batch_id").GetString()!;
        var workflow = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Post, $"/workflows?tenant={Tenant}", """
            {"name": "hooli-payroll", "steps": [
              {"name": "compute", "job": {"type": "report:generate"}},
              {"name": "pay", "job": {"type": "report:generate"}, "after": ["compute"]}
            ]}
            """)).RootElement.GetProperty("workflow_id").GetString()!;
        await fixture.Server.SendAsync(HttpMethod.Post, $"/batches/{batch}/cancel?tenant={Tenant}");
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/overview");
        browser.Click(By.CssSelector("nav a[data-nav=workflows]"));
        // Every tenant's first, with a tenant column: hooli's workflow among the operator's tenant's.
        var listed = browser.Until(d => d.FindElements(By.CssSelector($"tr[data-batch-id='{workflow}']")) is { Count: 1 } r ? r[0] : null, "hooli's workflow among every tenant's");
        Assert.Contains("every tenant", browser.Find(By.TagName("h2")).Text, StringComparison.Ordinal);
        Assert.Contains(browser.FindAll(By.CssSelector("#batch-list th")), th => th.Text == "tenant");
        Assert.Contains(listed.FindElements(By.TagName("td")), td => td.Text == Tenant);
        Assert.Equal($"#/workflows/{workflow}?tenant={Tenant}", listed.FindElement(By.TagName("a")).GetDomAttribute("href"));
        browser.Find(By.Id("list-tenant")).SendKeys(Tenant);
        browser.Click(By.CssSelector("button[data-action=list-tenant]"));
        var row = browser.Until(d => d.FindElements(By.CssSelector("tr[data-batch-id]")) is { Count: 1 } r ? r[0] : null, "hooli's one workflow");
        Assert.Equal(workflow, row.GetAttribute("data-batch-id"));
        Assert.Contains("hooli-payroll", row.Text, StringComparison.Ordinal);
        Assert.Equal($"#/workflows/{workflow}?tenant={Tenant}", row.FindElement(By.TagName("a")).GetDomAttribute("href"));
        Assert.Equal($"#/workflows?status=RUNNING&tenant={Tenant}", browser.Find(By.CssSelector("a[data-tab=RUNNING]")).GetDomAttribute("href"));
        browser.Screenshot("workflows");

        row.FindElement(By.TagName("a")).Click();
        browser.Until(d => d.FindElement(By.TagName("h1")).Text.Contains("hooli-payroll", StringComparison.Ordinal), "the workflow's page, in hooli");
        browser.Find(By.CssSelector("tr[data-step=compute]"));
        Assert.Empty(browser.FindAll(By.CssSelector(".error-box")));

        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + $"#/batches?tenant={Tenant}");
        var ids = browser.Until(d => d.FindElements(By.CssSelector("tr[data-batch-id]")) is { Count: 2 } r ? r.Select(x => x.GetAttribute("data-batch-id")).ToList() : null, "hooli's batch and workflow");
        Assert.Equal([workflow, batch], ids);
        browser.Click(By.CssSelector("a[data-tab=CANCELLED]"));
        var cancelled = browser.Until(d => d.FindElements(By.CssSelector("tr[data-batch-id]")) is { Count: 1 } r && r[0].GetAttribute("data-status") == "CANCELLED" ? r[0] : null, "the cancelled batch alone");
        Assert.Equal(batch, cancelled.GetAttribute("data-batch-id"));
        Assert.Equal($"#/batches/{batch}?tenant={Tenant}", cancelled.FindElement(By.TagName("a")).GetDomAttribute("href"));
        cancelled.FindElement(By.TagName("a")).Click();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "cancelled", "the batch's page, in hooli");
        Assert.Equal("Batch " + batch, browser.Find(By.TagName("h1")).Text);
    }

    [Fact]
    public void TheBatchesPage_ForATenantKey_ListsItsOwnTenantsOnly_AndKeepsTheEntryById()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.TenantKey, "#/batches");

        browser.Find(By.Id("batch-id"));
        browser.Until(d => d.FindElements(By.CssSelector("#batch-list p, #batch-list table")).Count == 1, "globex's list");
        Assert.Empty(browser.FindAll(By.Id("list-tenant")));
        Assert.Empty(browser.FindAll(By.CssSelector(".error-box")));
    }
}
