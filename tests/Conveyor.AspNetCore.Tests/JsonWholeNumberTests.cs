using System.Text.Json;
using Conveyor.AspNetCore.JobsApi;

namespace Conveyor.AspNetCore.Tests;

/// <summary>Whole numbers of a request body (max_retry, a limit's max, a bulk call's limit) as JSON Schema counts integers.</summary>
public sealed class JsonWholeNumberTests
{
    [Theory]
    [InlineData("3", 3)]
    [InlineData("3.0", 3)]
    [InlineData("3e0", 3)]
    [InlineData("1E+2", 100)]
    [InlineData("30e-1", 3)]
    [InlineData("0.03e2", 3)]
    [InlineData("-0.0", 0)]
    [InlineData("0e-99999999999999999999", 0)]
    [InlineData("0.000e99999999999999999999", 0)]
    [InlineData("9223372036854775807.000", long.MaxValue)]
    [InlineData("-9223372036854775808.0", long.MinValue)]
    [InlineData("92233720368547758.07e2", long.MaxValue)]
    public void TryGet_ReadsANumberWhoseValueIsWhole(string json, long expected)
    {
        using var document = JsonDocument.Parse(json);

        Assert.True(JsonWholeNumber.TryGet(document.RootElement, out long number));
        Assert.Equal(expected, number);
    }

    [Theory]
    [InlineData("2.5")]
    [InlineData("1e-308")]
    [InlineData("5e-324")]
    [InlineData("1e-400")]
    [InlineData("1e-29")]
    [InlineData("2.99999999999999999999999999999")]
    [InlineData("3.00000000000000000000000000001")]
    [InlineData("1000.0000000000000000000000001")]
    [InlineData("9223372036854775808.0")]
    [InlineData("-9223372036854775809")]
    [InlineData("1e19")]
    [InlineData("1e99999999999999999999")]
    [InlineData("\"3\"")]
    [InlineData("null")]
    public void TryGet_RefusesAFractionHoweverSmall_AndWhatIsNotALong(string json)
    {
        using var document = JsonDocument.Parse(json);

        Assert.False(JsonWholeNumber.TryGet(document.RootElement, out long _));
    }
}
