using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conveyor.Tests.Server;

public sealed class JobServerOptionsTests
{
    internal static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddConveyor().UseInMemoryStore().AddServer();
        return builder.Build();
    }

    [Theory]
    [InlineData("Conveyor:Server:Concurrency", "0", "Conveyor:Server:Concurrency must be between 1 and 10000")]
    [InlineData("Conveyor:Server:Queues:low", "0", "Conveyor:Server:Queues:low must be a weight from 1 to 1000")]
    [InlineData("Conveyor:Server:Queues:bad name", "2", "'bad name' is not a queue name")]
    [InlineData("Conveyor:Server:Queues:..", "2", "Conveyor:Server:Queues: '..' is not a queue name (1 to 64 letters, digits, '_', '-' or '.', not '.' or '..')")]
    [InlineData("Conveyor:Server:Queues:.", "2", "Conveyor:Server:Queues: '.' is not a queue name")]
    [InlineData("Conveyor:Retention:Queues:..:MaxSucceeded", "3", "Conveyor:Retention:Queues: '..' is not a queue name")]
    [InlineData("Conveyor:Limits:FairQueues:0", "..", "Conveyor:Limits:FairQueues:0 must name a queue whose jobs are taken in turns between tenants")]
    [InlineData("Conveyor:Server:ShutdownTimeout", "02:00:00", "Conveyor:Server:ShutdownTimeout must be between")]
    [InlineData("Conveyor:DefaultMaxRetry", "-3", "DefaultMaxRetry")]
    [InlineData("Conveyor:Retention:Failed", "-01:00:00", "Conveyor:Retention:Failed must be between 00:00:00 and 3650.00:00:00; it is -01:00:00.")]
    [InlineData("Conveyor:Retention:JobTypes:reports:Succeeded", "-00:00:01", "Conveyor:Retention:JobTypes:reports:Succeeded must be between 00:00:00 and 3650.00:00:00; it is -00:00:01.")]
    [InlineData("Conveyor:Retention:JobTypes:reports:Cancelled", "3651.00:00:00", "Conveyor:Retention:JobTypes:reports:Cancelled must be between 00:00:00 and 3650.00:00:00; it is 3651.00:00:00.")]
    [InlineData("Conveyor:Retention:JobTypes:email:send:Failed", "-1.00:00:00", "Conveyor:Retention:JobTypes:email:send:Failed must be between 00:00:00 and 3650.00:00:00; it is -1.00:00:00.")]
    [InlineData("Conveyor:Metrics:StoreTimeout", "00:01:00", "Conveyor:Metrics:StoreTimeout must be between 00:00:00.1 and 00:00:30; it is 00:01:00.")]
    [InlineData("Conveyor:Metrics:MaxJobTypes", "5", "Conveyor:Metrics:MaxJobTypes must be between 10 and 100000; it is 5.")]
    [InlineData("Conveyor:Metrics:MaxQueues", "5", "Conveyor:Metrics:MaxQueues must be between 10 and 100000; it is 5.")]
    [InlineData("Conveyor:Retention:MaxSucceededPerQueue", "-1", "Conveyor:Retention:MaxSucceededPerQueue must be a count of finished jobs from 0 to 100000 (or unset for no cap); got -1.")]
    [InlineData("Conveyor:Retention:MaxFailedPerQueue", "100001", "Conveyor:Retention:MaxFailedPerQueue must be a count of finished jobs from 0 to 100000")]
    [InlineData("Conveyor:Retention:Queues:emails:MaxFailed", "-5", "Conveyor:Retention:Queues:emails:MaxFailed must be a count of finished jobs from 0 to 100000")]
    [InlineData("Conveyor:Retention:Queues:bad name:MaxSucceeded", "5", "Conveyor:Retention:Queues: 'bad name' is not a queue name")]
    [InlineData("Conveyor:Server:UnknownJobTypeMaxDelay", "00:00:10", "Conveyor:Server:UnknownJobTypeMaxDelay (00:00:10) must be at least Conveyor:Server:UnknownJobTypeDelay (00:00:30)")]
    [InlineData("Conveyor:Server:SchedulePollInterval", "00:02:00", "Conveyor:Server:ScheduleMisfireThreshold (00:01:00) must be longer than Conveyor:Server:SchedulePollInterval (00:02:00)")]
    [InlineData("Conveyor:Limits:Concurrency:imports:Max", "0", "Conveyor:Limits:Concurrency:imports:Queue must name the queue the limit applies to")]
    public async Task Start_WithAnInvalidSetting_FailsNamingTheSettingAndWhatItAccepts(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            using var host = BuildHost(new() { [key] = value });
            await host.StartAsync();
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        // The setting is named once, not after its member name as well ("Concurrency: Conveyor:Server:Concurrency …").
        Assert.DoesNotMatch(@"(?<![\w:])[A-Z]\w*: " + System.Text.RegularExpressions.Regex.Escape(expected), error.Message);
    }

    // A job type is domain:action, and configuration splits keys at ':' (outside run CR: no type could be set there).
    [Fact]
    public void JobTypeRetention_BindsFromConfiguration_ForTypesWhoseNamesHoldColons()
    {
        using var host = BuildHost(new()
        {
            ["Conveyor:Retention:JobTypes:email:send:Failed"] = "2.00:00:00",
            ["Conveyor:Retention:JobTypes:email:send:Succeeded"] = "00:30:00",
            ["Conveyor:Retention:JobTypes:email:bounce:Cancelled"] = "03:00:00",
            ["Conveyor:Retention:JobTypes:reports:Failed"] = "1.00:00:00",
            ["Conveyor:Retention:JobTypes:billing:invoice:monthly:Failed"] = "4.00:00:00",
        });

        var jobTypes = host.Services.GetRequiredService<IOptions<ConveyorOptions>>().Value.Retention.JobTypes;

        Assert.Equal(["billing:invoice:monthly", "email:bounce", "email:send", "reports"], jobTypes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TimeSpan.FromDays(2), jobTypes["email:send"].Failed);
        Assert.Equal(TimeSpan.FromMinutes(30), jobTypes["email:send"].Succeeded);
        Assert.Null(jobTypes["email:send"].Cancelled);
        Assert.Equal(TimeSpan.FromHours(3), jobTypes["email:bounce"].Cancelled);
        Assert.Equal(TimeSpan.FromDays(1), jobTypes["reports"].Failed);
        Assert.Equal(TimeSpan.FromDays(4), jobTypes["billing:invoice:monthly"].Failed);
    }

    [Fact]
    public void CountCaps_BindFromConfiguration_AQueuesOwnWinningOverTheDefault()
    {
        using var host = BuildHost(new()
        {
            ["Conveyor:Retention:MaxSucceededPerQueue"] = "1000",
            ["Conveyor:Retention:MaxFailedPerQueue"] = "5000",
            ["Conveyor:Retention:Queues:emails:MaxSucceeded"] = "10",
        });

        var retention = host.Services.GetRequiredService<IOptions<ConveyorOptions>>().Value.Retention;

        Assert.Equal((10, 5000), retention.CapsOf("emails"));
        Assert.Equal((1000, 5000), retention.CapsOf("reports"));
        Assert.Equal(((int?)null, (int?)null), new ConveyorRetentionOptions().CapsOf("reports"));
    }

    [Theory]
    [InlineData("Max", "0", "Conveyor:Limits:Concurrency:imports:Max must be the jobs running at once, from 1 to 100000; got 0.")]
    [InlineData("Max", "100001", "Conveyor:Limits:Concurrency:imports:Max must be the jobs running at once, from 1 to 100000; got 100001.")]
    [InlineData("Queue", "bad queue", "Conveyor:Limits:Concurrency:imports:Queue must name the queue the limit applies to (1 to 64 letters, digits, '_', '-' or '.', not '.' or '..'); got 'bad queue'.")]
    [InlineData("Queue", "..", "Conveyor:Limits:Concurrency:imports:Queue must name the queue the limit applies to (1 to 64 letters, digits, '_', '-' or '.', not '.' or '..'); got '..'.")]
    [InlineData("JobType", "Import", "Conveyor:Limits:Concurrency:imports:JobType must be a job type ('domain:action', lowercase) or unset for every type of the queue; got 'Import'.")]
    public async Task Start_WithAnInvalidConcurrencyLimit_FailsNamingTheSettingAndWhatItAccepts(string setting, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            using var host = BuildHost(new()
            {
                ["Conveyor:Limits:Concurrency:imports:Queue"] = "imports",
                ["Conveyor:Limits:Concurrency:imports:Max"] = "1",
                [$"Conveyor:Limits:Concurrency:imports:{setting}"] = value,
            });
            await host.StartAsync();
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithALimitValueConfigurationCannotRead_FailsNamingTheSetting()
    {
        // The configuration binder drops an entry whose value it cannot convert: without the check the limit would vanish.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            using var host = BuildHost(new()
            {
                ["Conveyor:Limits:Concurrency:imports:Queue"] = "imports",
                ["Conveyor:Limits:Concurrency:imports:Max"] = "one",
                ["Conveyor:Limits:Concurrency:imports:Partition"] = "customer",
            });
            await host.StartAsync();
        });

        Assert.Contains("Conveyor:Limits:Concurrency:imports:Partition must be None (one count for the limit) or Tenant (one count per tenant); got 'customer'.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Conveyor:Limits:Concurrency:imports:Max must be the jobs running at once, from 1 to 100000; got 'one'.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConcurrencyLimits_BindFromConfiguration()
    {
        using var host = BuildHost(new()
        {
            ["Conveyor:Limits:Concurrency:imports:Queue"] = "imports",
            ["Conveyor:Limits:Concurrency:imports:JobType"] = "import:run",
            ["Conveyor:Limits:Concurrency:imports:Partition"] = "Tenant",
            ["Conveyor:Limits:Concurrency:imports:Max"] = "2",
        });

        var limit = Assert.Single(host.Services.GetRequiredService<IOptions<ConveyorOptions>>().Value.Limits.Concurrency);

        Assert.Equal("imports", limit.Key);
        Assert.Equal(("imports", "import:run", LimitPartition.Tenant, 2), (limit.Value.Queue, limit.Value.JobType, limit.Value.Partition, limit.Value.Max));
    }

    [Theory]
    [InlineData("Conveyor:Server:Concurency", "5", "unknown setting Conveyor:Server:Concurency; did you mean Conveyor:Server:Concurrency?")]
    [InlineData("Conveyor:FireAndForget:FulMode", "Wait", "unknown setting Conveyor:FireAndForget:FulMode; did you mean Conveyor:FireAndForget:FullMode?")]
    [InlineData("Conveyor:FireAndForget:Capasity", "5", "unknown setting Conveyor:FireAndForget:Capasity; the settings under Conveyor:FireAndForget are: BufferCapacity, EnqueueTimeout, FullMode, FullWaitTimeout, MaxBatchSize, Queue, ShutdownTimeout.")]
    [InlineData("Conveyor:Server:Zzzzzzzzzzzz", "5", "unknown setting Conveyor:Server:Zzzzzzzzzzzz; the settings under Conveyor:Server are: ")]
    public async Task Start_WithAMisspeltSetting_FailsNamingItAndTheNearestSetting(string key, string value, string expected)
    {
        // Your own host, not the bundled server (which checks every key before it builds one): the binder refuses a key
        // that its section's options do not have, rather than leave the setting at its default without a word.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value });
            builder.Services.AddConveyor().UseInMemoryStore().AddFireAndForget().AddServer();
            using var host = builder.Build();
            await host.StartAsync();
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Conveyor:Server:Concurrency", "lots", "Conveyor:Server:Concurrency is 'lots'; it accepts a whole number from 1 to 10000.")]
    [InlineData("Conveyor:Server:LeaseDuration", "4s", "Conveyor:Server:LeaseDuration is '4s'; it accepts a duration as [d.]hh:mm:ss[.fff], such as 00:00:30.")]
    [InlineData("Conveyor:Server:UnknownJobTypes", "Failed", "Conveyor:Server:UnknownJobTypes is 'Failed'; it accepts one of: Snooze, Fail.")]
    [InlineData("Conveyor:Server:Queues:low", "x", "Conveyor:Server:Queues:low is 'x'; it accepts a whole number from 1 to 1000.")]
    // Of the wrong shape (one value for a section, a section for one value): the binder skipped them without a word,
    // and the server ran the default queues for "Queues": "critical".
    [InlineData("Conveyor:Server", "fast", "Conveyor:Server is 'fast'; it is a section of settings (Conveyor:Server:<setting>), not one value.")]
    [InlineData("Conveyor:Server:Queues", "critical", "Conveyor:Server:Queues is 'critical'; it is a section of names and their values (Conveyor:Server:Queues:<name>), not one value.")]
    [InlineData("Conveyor:Server:Queues:default:weight", "3", "Conveyor:Server:Queues:default is a section (weight); it accepts a whole number")]
    [InlineData("Conveyor:Retention:Queues", "emails", "Conveyor:Retention:Queues is 'emails'; it is a section of names and their values")]
    [InlineData("Conveyor", "x", "Conveyor is 'x'; it is a section of settings")]
    public async Task Start_WithAValueOfTheWrongType_FailsNamingTheSettingAndWhatItAccepts(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            using var host = BuildHost(new() { [key] = value });
            await host.StartAsync();
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfiguredQueues_ReplaceTheDefaults_InsteadOfAddingToThem()
    {
        using var host = BuildHost(new() { ["Conveyor:Server:Queues:emails"] = "2", ["Conveyor:Server:Concurrency"] = "7" });

        var options = host.Services.GetRequiredService<IOptions<JobServerOptions>>().Value;

        Assert.Equal(7, options.Concurrency);
        Assert.Equal(new Dictionary<string, int> { ["emails"] = 2 }, options.EffectiveQueues);
    }

    [Fact]
    public void UnknownJobTypes_BindsFromConfiguration_AndSnoozesByDefault()
    {
        using var defaults = BuildHost([]);
        using var failing = BuildHost(new() { ["Conveyor:Server:UnknownJobTypes"] = "fail" });

        Assert.Equal(UnknownJobTypeAction.Snooze, defaults.Services.GetRequiredService<IOptions<JobServerOptions>>().Value.UnknownJobTypes);
        Assert.Equal(UnknownJobTypeAction.Fail, failing.Services.GetRequiredService<IOptions<JobServerOptions>>().Value.UnknownJobTypes);
    }

    [Fact]
    public void NoQueuesConfigured_ServesCriticalSixDefaultThreeLowOne()
    {
        using var host = BuildHost([]);

        var options = host.Services.GetRequiredService<IOptions<JobServerOptions>>().Value;

        Assert.Equal(new Dictionary<string, int> { ["critical"] = 6, ["default"] = 3, ["low"] = 1 }, options.EffectiveQueues);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ShutdownTimeout);
        Assert.Equal(Environment.ProcessorCount * 10, options.Concurrency);
    }
}
