using Conveyor.AspNetCore.JobsApi;

namespace Conveyor.AspNetCore.Tests;

/// <summary>RFC 3339 date-times as requests send them (process_at, deadline, created_after): every form the RFC allows.</summary>
public sealed class Rfc3339Tests
{
    [Theory]
    [InlineData("2026-06-30T12:00:00Z", "2026-06-30T12:00:00.0000000+00:00")]
    [InlineData("2026-06-30t12:00:00.5+02:00", "2026-06-30T12:00:00.5000000+02:00")]
    [InlineData("2026-06-30T12:00:00.123456789Z", "2026-06-30T12:00:00.1234567+00:00")]
    [InlineData("2026-06-30T12:00:00.1234567891234567891234Z", "2026-06-30T12:00:00.1234567+00:00")]
    [InlineData("2016-12-31T23:59:60Z", "2017-01-01T00:00:00.0000000+00:00")]
    [InlineData("2016-12-31T18:59:60-05:00", "2016-12-31T19:00:00.0000000-05:00")]
    [InlineData("9999-12-31T23:59:60+14:00", "9999-12-31T10:00:00.0000000+00:00")]
    [InlineData("2030-01-01T00:00:00+23:59", "2029-12-31T00:01:00.0000000+00:00")]
    [InlineData("2030-01-01T00:00:00-23:59", "2030-01-01T23:59:00.0000000+00:00")]
    [InlineData("0001-01-01T00:00:00-01:00", "0001-01-01T01:00:00.0000000+00:00")]
    public void TryParse_ReadsEveryFormTheRfcAllows(string text, string expected)
    {
        Assert.True(Rfc3339.TryParse(text, out var value));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("2026-06-30T12:00:61Z")]
    [InlineData("2026-06-30T12:60:00Z")]
    [InlineData("2026-02-30T12:00:00Z")]
    [InlineData("2026-06-30T12:00:00.Z")]
    [InlineData("2026-06-30T12:00:00")]
    [InlineData("2026-06-30 12:00:00Z")]
    [InlineData("2026-06-30T12:00:00Z\n")]
    [InlineData("9999-12-31T23:59:60Z")]
    [InlineData("9999-12-31T23:59:60-14:00")]
    [InlineData("2030-01-01T00:00:00+24:00")]
    [InlineData("2030-01-01T00:00:00+01:60")]
    public void TryParse_RefusesWhatIsNotAnInstant(string text) =>
        Assert.False(Rfc3339.TryParse(text, out _));

    [Theory]
    [InlineData("0001-01-01T00:00:00+00:01", true)]
    [InlineData("9999-12-31T23:59:59-23:59", true)]
    [InlineData("9999-12-31T23:59:60Z", true)]
    [InlineData("2030-01-01T00:00:00+24:00", false)]
    [InlineData("2026-02-30T12:00:00Z", false)]
    [InlineData("2030-01-01T00:00:00Z", false)]
    public void IsFormedButOutOfRange_OnlyForARealDateTimeOutsideTheYears1To9999(string text, bool expected) =>
        Assert.Equal(expected, Rfc3339.IsFormedButOutOfRange(text));
}
