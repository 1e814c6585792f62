using Microsoft.Extensions.Configuration;

namespace Conveyor.Server.Tests;

/// <summary>The unknown-key check knows every section the server binds, including lists such as Conveyor:Schedules.</summary>
public sealed class SettingsCheckTests
{
    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void ThrowIfInvalid_SchedulesEventsFireAndForgetMetricsAndRetentionSettings_AreAccepted_JobTypesWithColonsIncluded()
    {
        var configuration = Settings(
            ("Conveyor:Schedules:0:Name", "nightly-report"),
            ("Conveyor:Schedules:0:Cron", "0 3 * * *"),
            ("Conveyor:Schedules:0:TimeZone", "Europe/Berlin"),
            ("Conveyor:Schedules:0:JobType", "report:generate"),
            ("Conveyor:Schedules:0:Misfire", "Skip"),
            ("Conveyor:Events:NoSubscribers", "Log"),
            ("Conveyor:FireAndForget:Queue", "low"),
            ("Conveyor:Metrics:StoreGauges", "true"),
            ("Conveyor:Retention:Succeeded", "01:00:00"),
            ("Conveyor:Retention:JobTypes:reports:Succeeded", "01:00:00"),
            ("Conveyor:Retention:JobTypes:email:send:Failed", "2.00:00:00"));

        SettingsCheck.ThrowIfInvalid(configuration);
    }

    [Theory]
    [InlineData("Logging:LogLevel:Default", "Loud")]
    [InlineData("Logging:LogLevel:Microsoft.AspNetCore", "verbose")]
    [InlineData("Logging:Console:LogLevel:Conveyor", "Warn")]
    [InlineData("Logging:LogLevel:Microsoft:AspNetCore", "Loud")]
    public void ThrowIfInvalid_ALogLevelTheLoggingFilterDoesNotRead_NamesItAndTheLevels(string key, string value)
    {
        var error = Assert.Throws<InvalidSettingException>(() => SettingsCheck.ThrowIfInvalid(Settings((key, value))));

        Assert.Equal($"{key} is '{value}'; it accepts one of: Trace, Debug, Information, Warning, Error, Critical, None.", error.Message);
    }

    [Fact]
    public void ThrowIfInvalid_LogLevelsInAnyLetterCaseOrEmpty_AreAccepted()
    {
        SettingsCheck.ThrowIfInvalid(Settings(
            ("Logging:LogLevel:Default", "information"), ("Logging:LogLevel:Conveyor", "WARNING"),
            ("Logging:Console:LogLevel:Default", ""), ("Logging:Console:FormatterName", "simple"), ("Logging:LogLevel:Npgsql", "3"),
            // Not read by the logging filter (a provider's own settings below another level): left to what reads it.
            ("Logging:File:Targets:0:LogLevel:Default", "Verbose")));
    }

    [Fact]
    public void ThrowIfInvalid_MisspeltScheduleField_NamesItAndTheNearestField()
    {
        var configuration = Settings(("Conveyor:Schedules:0:Name", "nightly-report"), ("Conveyor:Schedules:0:Crn", "0 3 * * *"));

        var error = Assert.Throws<InvalidSettingException>(() => SettingsCheck.ThrowIfInvalid(configuration));

        Assert.Contains("unknown setting Conveyor:Schedules:0:Crn; did you mean Conveyor:Schedules:0:Cron?", error.Message, StringComparison.Ordinal);
    }

    // The levels under JobTypes spell a job type (email:send), so a key there that is no age is read as a name part:
    // one that holds a value, even an empty one, can only be a misspelt age.
    [Theory]
    [InlineData("1.00:00:00")]
    [InlineData("")]
    public void ThrowIfInvalid_MisspeltAgeOfAJobTypeWhoseNameHoldsAColon_NamesTheNearestAge(string value)
    {
        var error = Assert.Throws<InvalidSettingException>(() => SettingsCheck.ThrowIfInvalid(Settings(("Conveyor:Retention:JobTypes:email:send:Faild", value))));

        Assert.Equal("unknown setting Conveyor:Retention:JobTypes:email:send:Faild; did you mean Conveyor:Retention:JobTypes:email:send:Failed?", error.Message);
    }

    [Theory]
    [InlineData("Conveyor:Server:Concurrency", "99999999999", "it accepts a whole number from 1 to 10000.")]
    [InlineData("Conveyor:Server:Concurrency", "many", "it accepts a whole number from 1 to 10000.")]
    [InlineData("Conveyor:Server:Queues:default", "abc", "it accepts a whole number from 1 to 1000.")]
    public void ThrowIfInvalid_AWholeNumberThatCannotBeRead_SaysTheSettingsRangeWhenItHasOne(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidSettingException>(() => SettingsCheck.ThrowIfInvalid(Settings((key, value))));

        Assert.Equal($"{key} is '{value}'; {expected}", error.Message);
    }
}
