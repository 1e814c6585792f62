namespace Conveyor.Storage.Conformance;

/// <summary>
/// The limit definitions every server reads: write and read back every field, replace, the rule that a configured
/// limit never replaces one set through the API, delete, and the order of the list.
/// </summary>
public abstract class LimitDefinitionTests : JobStoreTestBase
{
    private static LimitRecord Rate(string name = "partner-api", LimitSource source = LimitSource.Configuration, int limit = 10) => new()
    {
        Kind = LimitKind.Rate,
        Name = name,
        Queue = "partner",
        JobType = "partner:call",
        PerTenant = true,
        Limit = limit,
        Period = TimeSpan.FromSeconds(1),
        Burst = 2,
        Source = source,
    };

    private static LimitRecord Concurrency(string name = "imports", LimitSource source = LimitSource.Configuration, int max = 1) => new()
    {
        Kind = LimitKind.Concurrency,
        Name = name,
        Queue = "imports",
        Limit = max,
        Source = source,
    };

    [Fact]
    public async Task List_Empty_ReturnsNothing() => Assert.Empty(await Store.ListLimitsAsync(Ct));

    [Fact]
    public async Task Put_New_IsCreatedWithEveryField()
    {
        Assert.Equal(LimitWriteResult.Created, await Store.PutLimitAsync(Rate(), Ct));

        var stored = Assert.Single(await Store.ListLimitsAsync(Ct));
        Assert.Equal(LimitKind.Rate, stored.Kind);
        Assert.Equal("partner-api", stored.Name);
        Assert.Equal("partner", stored.Queue);
        Assert.Equal("partner:call", stored.JobType);
        Assert.True(stored.PerTenant);
        Assert.Equal(10, stored.Limit);
        Assert.Equal(TimeSpan.FromSeconds(1), stored.Period);
        Assert.Equal(2, stored.Burst);
        Assert.Equal(LimitSource.Configuration, stored.Source);
        Assert.Equal(Now, stored.UpdatedAt);
    }

    [Fact]
    public async Task Put_Concurrency_HasNoPeriodNorBurst()
    {
        await Store.PutLimitAsync(Concurrency() with { Period = TimeSpan.FromSeconds(3), Burst = 5 }, Ct);

        var stored = Assert.Single(await Store.ListLimitsAsync(Ct));
        Assert.Equal(LimitKind.Concurrency, stored.Kind);
        Assert.Null(stored.JobType);
        Assert.False(stored.PerTenant);
        Assert.Equal(1, stored.Limit);
        Assert.Equal(TimeSpan.Zero, stored.Period);
        Assert.Equal(0, stored.Burst);
    }

    [Fact]
    public async Task Put_Period_KeepsWholeMicroseconds()
    {
        await Store.PutLimitAsync(Rate() with { Period = TimeSpan.FromTicks(12_345_678) }, Ct);

        Assert.Equal(TimeSpan.FromMicroseconds(1_234_567), Assert.Single(await Store.ListLimitsAsync(Ct)).Period);
    }

    [Fact]
    public async Task Put_Existing_ReplacesItAndItsTime()
    {
        await Store.PutLimitAsync(Rate(), Ct);
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(LimitWriteResult.Replaced, await Store.PutLimitAsync(Rate(limit: 20) with { JobType = null, PerTenant = false }, Ct));

        var stored = Assert.Single(await Store.ListLimitsAsync(Ct));
        Assert.Equal(20, stored.Limit);
        Assert.Null(stored.JobType);
        Assert.False(stored.PerTenant);
        Assert.Equal(Now, stored.UpdatedAt);
    }

    [Fact]
    public async Task Put_ConfigurationOverApi_KeepsTheApiLimit()
    {
        await Store.PutLimitAsync(Rate(source: LimitSource.Api, limit: 3), Ct);
        var written = Assert.Single(await Store.ListLimitsAsync(Ct)).UpdatedAt;
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(LimitWriteResult.KeptApiLimit, await Store.PutLimitAsync(Rate(limit: 10), Ct));

        var stored = Assert.Single(await Store.ListLimitsAsync(Ct));
        Assert.Equal(3, stored.Limit);
        Assert.Equal(LimitSource.Api, stored.Source);
        Assert.Equal(written, stored.UpdatedAt);
    }

    [Fact]
    public async Task Put_ApiOverConfiguration_AndApiOverApi_Replace()
    {
        await Store.PutLimitAsync(Rate(), Ct);

        Assert.Equal(LimitWriteResult.Replaced, await Store.PutLimitAsync(Rate(source: LimitSource.Api, limit: 3), Ct));
        Assert.Equal(LimitWriteResult.Replaced, await Store.PutLimitAsync(Rate(source: LimitSource.Api, limit: 4), Ct));

        var stored = Assert.Single(await Store.ListLimitsAsync(Ct));
        Assert.Equal(4, stored.Limit);
        Assert.Equal(LimitSource.Api, stored.Source);
    }

    [Fact]
    public async Task Put_SameNameOtherKind_IsAnotherLimit()
    {
        await Store.PutLimitAsync(Rate("shared"), Ct);
        Assert.Equal(LimitWriteResult.Created, await Store.PutLimitAsync(Concurrency("shared"), Ct));

        Assert.Equal(2, (await Store.ListLimitsAsync(Ct)).Count);
    }

    [Fact]
    public async Task List_IsOrderedByKindThenName()
    {
        await Store.PutLimitAsync(Rate("b"), Ct);
        await Store.PutLimitAsync(Rate("a"), Ct);
        await Store.PutLimitAsync(Concurrency("z"), Ct);
        await Store.PutLimitAsync(Concurrency("B"), Ct);

        var listed = (await Store.ListLimitsAsync(Ct)).Select(static l => (l.Kind, l.Name)).ToArray();

        Assert.Equal([(LimitKind.Concurrency, "B"), (LimitKind.Concurrency, "z"), (LimitKind.Rate, "a"), (LimitKind.Rate, "b")], listed);
    }

    [Fact]
    public async Task Delete_RemovesOnlyThatKindAndName_WhateverItsSource()
    {
        await Store.PutLimitAsync(Rate("shared", LimitSource.Api), Ct);
        await Store.PutLimitAsync(Concurrency("shared"), Ct);

        Assert.True(await Store.DeleteLimitAsync(LimitKind.Rate, "shared", Ct));
        Assert.False(await Store.DeleteLimitAsync(LimitKind.Rate, "shared", Ct));

        var left = Assert.Single(await Store.ListLimitsAsync(Ct));
        Assert.Equal(LimitKind.Concurrency, left.Kind);
    }

    [Fact]
    public async Task Delete_ThenConfigurationPut_CreatesItAgain()
    {
        await Store.PutLimitAsync(Rate(source: LimitSource.Api, limit: 3), Ct);
        await Store.DeleteLimitAsync(LimitKind.Rate, "partner-api", Ct);

        Assert.Equal(LimitWriteResult.Created, await Store.PutLimitAsync(Rate(limit: 10), Ct));
        Assert.Equal(10, Assert.Single(await Store.ListLimitsAsync(Ct)).Limit);
    }

    [Fact]
    public async Task Put_NoNameOrQueue_IsRefusedAndWritesNothing()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.PutLimitAsync(Rate(name: ""), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.PutLimitAsync(Rate() with { Queue = "" }, Ct));

        Assert.Empty(await Store.ListLimitsAsync(Ct));
    }
}
