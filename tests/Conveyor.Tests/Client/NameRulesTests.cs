using Conveyor.Scheduling;
using Conveyor.Storage;

namespace Conveyor.Tests.Client;

/// <summary>
/// Names that become a segment of an HTTP API path (job ids, queues, tenants, schedules, signals) cannot be '.' or '..'
/// alone: a URL's dot segments are removed before routing, so no path could name them.
/// </summary>
public sealed class NameRulesTests
{
    [Theory]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("...", true)]
    [InlineData(".hidden", true)]
    [InlineData("v1.2", true)]
    public void DotSegments_AreNotNames_OtherNamesWithDotsAre(string name, bool valid)
    {
        Assert.Equal(valid, JobId.IsValid(name));
        Assert.Equal(valid, QueueName.IsValid(name));
        Assert.Equal(valid, TenantId.IsValid(name));
        Assert.Equal(valid, ScheduleValidator.IsValidName(name));
        Assert.Equal(valid, JobSignal.IsValidName(name));
    }
}
