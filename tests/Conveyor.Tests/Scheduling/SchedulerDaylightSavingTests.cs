namespace Conveyor.Tests.Scheduling;

/// <summary>
/// Ticks across daylight-saving changes, on a fake clock: a daily job runs once on the day clocks go forward (at the
/// first instant after the gap) and once, not twice, on the day they go back; an hourly job runs every real hour.
/// </summary>
public sealed class SchedulerDaylightSavingTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(10);

    [Theory]
    // Berlin springs forward on 2026-03-29 at 02:00 CET: 02:30 does not exist that day and runs at 03:00 CEST.
    [InlineData("Europe/Berlin", "30 2 * * *", "2026-03-27T12:00:00Z", new[] { "2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z" })]
    // Berlin falls back on 2026-10-25 at 03:00 CEST: 02:30 happens twice and runs at the first (CEST) only.
    [InlineData("Europe/Berlin", "30 2 * * *", "2026-10-23T12:00:00Z", new[] { "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z" })]
    // New York springs forward on 2026-03-08 at 02:00 EST: 02:30 runs at 03:00 EDT.
    [InlineData("America/New_York", "30 2 * * *", "2026-03-06T12:00:00Z", new[] { "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z" })]
    // New York falls back on 2026-11-01 at 02:00 EDT: 01:30 happens twice and runs at the first (EDT) only.
    [InlineData("America/New_York", "30 1 * * *", "2026-10-30T12:00:00Z", new[] { "2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z" })]
    public async Task DailyJob_RunsOncePerLocalDay_AcrossTheChange(string zone, string cron, string start, string[] expected)
    {
        var from = DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture);
        using var bed = new SchedulerTestBed(from);
        await bed.CreateAsync("daily", cron, zone);

        await bed.RunUntilAsync(from.AddDays(3), Step);

        Assert.Equal(expected.Select(e => DateTimeOffset.Parse(e, System.Globalization.CultureInfo.InvariantCulture)), await bed.TicksAsync());
        Assert.Equal(3, bed.Fired("daily"));
    }

    [Theory]
    // The local day of the change back has 25 hours and the hourly job runs in each; the day forward has 23.
    [InlineData("Europe/Berlin", "2026-10-24T22:00:00Z", 25)]
    [InlineData("Europe/Berlin", "2026-03-28T23:00:00Z", 23)]
    [InlineData("America/New_York", "2026-11-01T04:00:00Z", 25)]
    [InlineData("America/New_York", "2026-03-08T05:00:00Z", 23)]
    public async Task HourlyJob_RunsEveryRealHourOfTheLocalDay(string zone, string localMidnight, int hours)
    {
        var midnight = DateTimeOffset.Parse(localMidnight, System.Globalization.CultureInfo.InvariantCulture);
        using var bed = new SchedulerTestBed(midnight.AddSeconds(-1));
        await bed.CreateAsync("hourly", "0 * * * *", zone);
        var zoneInfo = TimeZoneInfo.FindSystemTimeZoneById(zone);
        var localDay = TimeZoneInfo.ConvertTime(midnight, zoneInfo).Date;

        await bed.RunUntilAsync(midnight.AddHours(hours + 2), Step);

        var ticks = (await bed.TicksAsync()).Where(t => TimeZoneInfo.ConvertTime(t, zoneInfo).Date == localDay).ToList();
        Assert.Equal(hours, ticks.Count);
        Assert.All(ticks.Zip(ticks.Skip(1)), pair => Assert.Equal(TimeSpan.FromHours(1), pair.Second - pair.First));
    }
}
