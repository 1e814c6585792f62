using Conveyor.Scheduling;

namespace Conveyor.Tests.Scheduling;

/// <summary>Cron expressions that never tick are refused where they are parsed; rare ones are not.</summary>
public sealed class CronScheduleTests
{
    [Theory]
    [InlineData("0 0 30 2 *")]
    [InlineData("0 0 31 2 *")]
    [InlineData("0 0 31 4,6,9,11 *")]
    [InlineData("0 0 0 30 FEB *")]
    public void Parse_AnExpressionThatNeverFires_IsADefinitionError_NamingCron(string cron)
    {
        var error = Assert.Throws<ScheduleDefinitionException>(() => CronSchedule.Parse("never", cron, "UTC"));

        Assert.Contains("Cron", error.Message, StringComparison.Ordinal);
        Assert.Contains("never fires", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ALeapDay_FiresEveryFourYears()
    {
        var schedule = CronSchedule.Parse("leap", "0 0 29 2 *", "UTC");

        Assert.Equal(new DateTimeOffset(2028, 2, 29, 0, 0, 0, TimeSpan.Zero), schedule.Next(new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero)));
    }
}
