using System.Text.Json;
using Conveyor.Serialization;

namespace Conveyor.Tests.Serialization;

public sealed class JsonDuplicateNamesTests
{
    [Theory]
    [InlineData("""{"a": 1, "b": 2}""", null)]
    [InlineData("""{"a": 1, "a": 2}""", "payload.a")]
    [InlineData("""{"a": {"b": [{"c": 1, "c": 2}]}}""", "payload.a.b[0].c")]
    [InlineData("""{"": 1, "": 2}""", "payload['']")]
    [InlineData("""{"a.b": 1, "a.b": 2}""", "payload['a.b']")]
    [InlineData("""{"x": {"a b": 1, "a b": 2}}""", "payload.x['a b']")]
    [InlineData("""{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": 1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": 2}""", "payload.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...")]
    public void Find_NamesThePathOfTheFirstNameGivenTwice_InBracketsWhereADotWouldMislead(string json, string? path)
    {
        using var document = JsonDocument.Parse(json);

        Assert.Equal(path, JsonDuplicateNames.Find(document.RootElement, "payload"));
    }
}
