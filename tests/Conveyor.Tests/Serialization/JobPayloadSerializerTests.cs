using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Serialization;

public sealed partial class JobPayloadSerializerTests
{
    [Fact]
    public void Serialize_WithOnlyASourceGeneratedContext_WorksWithoutReflection()
    {
        var services = new ServiceCollection();
        services.AddConveyor().UseInMemoryStore()
            .ConfigureJson(o => o.SerializerOptions.TypeInfoResolver = GeneratedContext.Default);
        var sut = services.BuildServiceProvider().GetRequiredService<JobPayloadSerializer>();

        var json = Encoding.UTF8.GetString(sut.Serialize(new GeneratedPayload(7, "x")));
        var back = sut.Deserialize<GeneratedPayload>(Encoding.UTF8.GetBytes(json));

        Assert.Equal("""{"order_id":7,"reference":"x"}""", json);
        Assert.Equal(new GeneratedPayload(7, "x"), back);
        // A type the context does not list is refused: the reflection resolver really is out of the loop.
        Assert.Throws<NotSupportedException>(() => sut.Serialize(new NotInTheContext(1)));
    }

    internal sealed record NotInTheContext(int Value);

    [Theory]
    [InlineData("""{"count": 1.5}""", "$.count", "must be a whole number from -2147483648 to 2147483647 (Shapes declares it as int?).")]
    [InlineData("""{"names": "ada"}""", "$.names", "must be an array (Shapes declares it as List<string>).")]
    [InlineData("""{"codes": {"a": 1}}""", "$.codes", "must be an array (Shapes declares it as string[]).")]
    [InlineData("""{"scores": [1]}""", "$.scores", "must be a JSON object (Shapes declares it as Dictionary<string, double>).")]
    public void Validate_NamesThePropertysTypeAsCSharpDeclaresIt(string json, string path, string message)
    {
        var sut = new ServiceCollection().AddConveyor().UseInMemoryStore().Services.BuildServiceProvider().GetRequiredService<JobPayloadSerializer>();

        var problem = sut.Validate<Shapes>(Encoding.UTF8.GetBytes(json));

        Assert.Equal(new JobPayloadProblem(path, message), problem);
    }

    internal sealed record Shapes(int? Count, List<string>? Names, string[]? Codes, Dictionary<string, double>? Scores);

    [Fact]
    public void Validate_AConvertersOwnRefusal_KeepsItsWords()
    {
        var sut = new ServiceCollection().AddConveyor().UseInMemoryStore().Services.BuildServiceProvider().GetRequiredService<JobPayloadSerializer>();

        var problem = sut.Validate<Measured>("""{"temperature": "21K"}"""u8.ToArray());

        Assert.Equal(new JobPayloadProblem("$.temperature", "a temperature ends in C or F."), problem);
    }

    internal sealed record Measured([property: JsonConverter(typeof(TemperatureConverter))] double Temperature);

    private sealed class TemperatureConverter : JsonConverter<double>
    {
        public override double Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
            reader.GetString() is { } text && (text.EndsWith('C') || text.EndsWith('F'))
                ? double.Parse(text[..^1], System.Globalization.CultureInfo.InvariantCulture)
                : throw new System.Text.Json.JsonException("a temperature ends in C or F.");

        public override void Write(System.Text.Json.Utf8JsonWriter writer, double value, System.Text.Json.JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString(System.Globalization.CultureInfo.InvariantCulture) + "C");
    }

    /// <summary>A payload record's own rules (IValidatableObject) are checked with its shape, named at the JSON name of the member they name.</summary>
    [Theory]
    [InlineData("""{"row_count": 5}""", null, null)]
    [InlineData("""{"row_count": 0}""", "$.row_count", "must be between 1 and 100; it is 0.")]
    [InlineData("""{"row_count": 5, "until": 3}""", "$", "until must not be before the first row.")]
    public void Validate_APayloadWithRulesOfItsOwn_RefusesTheFirstBroken(string json, string? path, string? message)
    {
        var sut = new ServiceCollection().AddConveyor().UseInMemoryStore().Services.BuildServiceProvider().GetRequiredService<JobPayloadSerializer>();

        var problem = sut.Validate<Ranged>(Encoding.UTF8.GetBytes(json));

        Assert.Equal(path is null ? null : new JobPayloadProblem(path, message!), problem);
    }

    internal sealed record Ranged(int RowCount, int? Until = null) : System.ComponentModel.DataAnnotations.IValidatableObject
    {
        public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
        {
            if (RowCount is < 1 or > 100)
            {
                yield return new($"must be between 1 and 100; it is {RowCount}.", [nameof(RowCount)]);
            }

            if (Until < RowCount)
            {
                yield return new("until must not be before the first row.");
            }
        }
    }

    [Fact]
    public void Serialize_ByDefault_WritesSnakeCaseNames()
    {
        var services = new ServiceCollection();
        services.AddConveyor().UseInMemoryStore();
        var sut = services.BuildServiceProvider().GetRequiredService<JobPayloadSerializer>();

        Assert.Equal("""{"order_id":7,"reference":"x"}""", Encoding.UTF8.GetString(sut.Serialize(new GeneratedPayload(7, "x"))));
    }

    internal sealed record GeneratedPayload(int OrderId, string Reference) : IJobPayload
    {
        public static string JobType => "order:ship";
    }

    [JsonSerializable(typeof(GeneratedPayload))]
    internal sealed partial class GeneratedContext : JsonSerializerContext;
}
