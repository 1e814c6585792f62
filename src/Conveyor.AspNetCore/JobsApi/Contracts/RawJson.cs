using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>Bytes written into a response as they are when they are JSON, or as a base64 string when they are not.</summary>
[JsonConverter(typeof(RawJsonConverter))]
internal sealed class RawJson(ReadOnlyMemory<byte> utf8)
{
    public ReadOnlyMemory<byte> Utf8 { get; } = utf8;

    internal sealed class RawJsonConverter : JsonConverter<RawJson>
    {
        public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return new RawJson(JsonSerializer.SerializeToUtf8Bytes(document.RootElement, ConveyorApiJsonContext.Default.JsonElement));
        }

        public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options)
        {
            if (IsJson(value.Utf8.Span))
            {
                writer.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
            }
            else
            {
                writer.WriteBase64StringValue(value.Utf8.Span);
            }
        }

        private static bool IsJson(ReadOnlySpan<byte> utf8)
        {
            if (utf8.IsEmpty)
            {
                return false;
            }

            try
            {
                var reader = new Utf8JsonReader(utf8);
                return reader.Read() && reader.TrySkip() && !reader.Read();
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }
}
