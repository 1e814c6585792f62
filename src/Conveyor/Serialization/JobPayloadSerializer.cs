using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

namespace Conveyor;

/// <summary>
/// Turns payloads and results into JSON and back with System.Text.Json. The settings come from
/// <see cref="ConveyorJsonOptions"/>; source-generated contexts added there are used first, so payload types
/// can be serialised without reflection.
/// </summary>
public sealed class JobPayloadSerializer
{
    private readonly JsonSerializerOptions _options;

    public JobPayloadSerializer(IOptions<ConveyorJsonOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.SerializerOptions;
        _options.MakeReadOnly(populateMissingResolver: true);
    }

    public byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, (JsonTypeInfo<T>)_options.GetTypeInfo(typeof(T)));

    public byte[] Serialize(object? value, Type type) => JsonSerializer.SerializeToUtf8Bytes(value, _options.GetTypeInfo(type));

    public T? Deserialize<T>(ReadOnlyMemory<byte> json) => JsonSerializer.Deserialize(json.Span, (JsonTypeInfo<T>)_options.GetTypeInfo(typeof(T)));
}
