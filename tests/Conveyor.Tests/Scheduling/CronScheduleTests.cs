using Conveyor.Scheduling;

namespace Conveyor.Tests.Scheduling;

/// <summary>
/// A cron expression that never ticks (Hangfire's <c>Cron.Never()</c>, <c>0 0 31 2 *</c>) is a schedule only a trigger
/// runs: accepted, with no next tick; rare ones tick when their day comes.
/// </summary>
public sealed class CronScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0 0 31 2 *")]
    [InlineData("0 0 30 2 *")]
    [InlineData("0 0 0 31 4,6,9,11 *")]
    public void Next_OfAnExpressionThatNeverTicks_IsNull(string cron) =>
        Assert.Null(CronSchedule.Parse("by-hand", cron, "UTC").Next(Now));

    [Fact]
    public void Next_OfALeapDay_IsTheNextOne()
    {
        var schedule = CronSchedule.Parse("leap", "0 0 29 2 *", "UTC");

        Assert.Equal(new DateTimeOffset(2028, 2, 29, 0, 0, 0, TimeSpan.Zero), schedule.Next(Now));
    }

    // Cronos reads a range whose start is above its end as wrapping round the field (an outside run's "1-0" in the
    // minutes ticked every minute): the guide says so, and this keeps it so across Cronos versions.
    [Fact]
    public void Range_WhoseStartIsAboveItsEnd_WrapsRoundTheField()
    {
        var schedule = CronSchedule.Parse("night", "0 22-2 * * *", "UTC");
        var ticks = new List<int>();
        for (DateTimeOffset? tick = schedule.Next(Now); tick is { } t && ticks.Count < 6; tick = schedule.Next(t))
        {
            ticks.Add(t.Hour);
        }

        // From midnight: the hours after it, then the evening's, then midnight again.
        Assert.Equal([1, 2, 22, 23, 0, 1], ticks);
    }

    [Theory]
    [InlineData("UTC", 0)]
    [InlineData("Europe/Berlin", 1)]
    [InlineData("America/Argentina/Buenos_Aires", -3)]
    [InlineData("US/Eastern", -5)]
    [InlineData("Etc/GMT+5", -5)]
    public void TimeZone_AsTheDatabaseSpellsIt_IsTaken(string zone, int hoursFromUtc) =>
        Assert.Equal(Now.AddHours(-hoursFromUtc).AddDays(1), CronSchedule.Parse("zoned", "0 0 * * *", zone).Next(Now.AddHours(-hoursFromUtc)));

    [Theory]
    [InlineData("localtime")]
    [InlineData("Europe//Berlin")]
    [InlineData("Europe/./Berlin")]
    [InlineData("/UTC")]
    [InlineData("UTC/")]
    [InlineData("posix/Europe/Berlin")]
    [InlineData("right/UTC")]
    public void TimeZone_ThatOnlyAPathLookupFinds_IsRefused(string zone)
    {
        var error = Assert.Throws<ScheduleDefinitionException>(() => CronSchedule.Parse("zoned", "0 0 * * *", zone));

        Assert.Contains("is not a known time zone id", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("europe/berlin", "Europe/Berlin")]
    [InlineData("EUROPE/BERLIN", "Europe/Berlin")]
    [InlineData("utc", "UTC")]
    [InlineData("Utc", "UTC")]
    [InlineData("Europe/Berlin", "Europe/Berlin")]
    [InlineData("US/Eastern", "US/Eastern")]
    [InlineData("Etc/UTC", "Etc/UTC")]
    public void Definition_WithAListedTimeZoneInAnyLetterCase_StoresTheDatabaseSpelling(string sent, string spelling) =>
        Assert.Equal(spelling, ScheduleValidator.ToRecord(Definition(sent), ScheduleOrigin.Runtime, Now).TimeZone);

    [Theory]
    [InlineData("us/eastern", "US/Eastern")]
    [InlineData("Etc/Utc", "Etc/UTC")]
    public void Definition_WithAnUnlistedTimeZoneInAnotherLetterCase_IsRefused_EvenOnceTheZoneWasRead(string sent, string spelling)
    {
        ScheduleValidator.ToRecord(Definition(spelling), ScheduleOrigin.Runtime, Now);

        var error = Assert.Throws<ScheduleDefinitionException>(() => ScheduleValidator.ToRecord(Definition(sent), ScheduleOrigin.Runtime, Now));

        Assert.Equal(nameof(ScheduleDefinition.TimeZone), error.Field);
        Assert.Contains("is not a known time zone id", error.Problem, StringComparison.Ordinal);
    }

    private static ScheduleDefinition Definition(string timeZone) =>
        new() { Name = "zoned", Cron = "0 0 * * *", TimeZone = timeZone, JobType = "test:echo" };
}
