using System.Reflection;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.Diagnostics;

/// <summary>Instants in log lines' structured fields are strings in the Jobs API's form (RFC 3339, UTC, microseconds), whatever the logger provider.</summary>
public sealed class InstantTextFieldsTests
{
    [Fact]
    public void NoGeneratedLogLine_TakesAnInstant_SoNoProviderRendersOneItsOwnWay()
    {
        // The JSON console formatter writes a DateTimeOffset field as "12/04/2026 18:12:21 +00:00": each line takes
        // the instant as a string formatted by InstantText instead.
        var lines = typeof(JobOptions).Assembly.GetTypes()
            .SelectMany(static t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(static m => m.GetCustomAttribute<LoggerMessageAttribute>() is not null)
            .ToList();
        var takingInstants = lines
            .Where(static m => m.GetParameters().Any(static p => IsInstant(Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType)))
            .Select(static m => m.Name);

        Assert.NotEmpty(lines);
        Assert.Empty(takingInstants);
    }

    [Fact]
    public void AnInstantField_IsTheApisForm_TheMessageShows()
    {
        var logs = new CapturingLoggerProvider();
        var until = new DateTimeOffset(2026, 12, 4, 18, 2, 47, TimeSpan.Zero).AddTicks(2350126);

        Log.AttemptParked(logs.CreateLogger("test"), "job_1", "test:echo", "default", 1, 3.5, "snoozed", "approved", until, null);

        var line = Assert.Single(logs.Entries);
        Assert.Equal("2026-12-04T18:02:47.235012Z", line.OwnFields["until"]);
        Assert.Contains("until 2026-12-04T18:02:47.235012Z,", line.Message, StringComparison.Ordinal);
    }

    private static bool IsInstant(Type type) => type == typeof(DateTimeOffset) || type == typeof(DateTime);
}
