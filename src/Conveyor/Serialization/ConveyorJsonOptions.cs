using System.Text.Json;

namespace Conveyor;

/// <summary>
/// JSON settings for payloads and results. Property names are snake_case by default (<c>{"note_id": 42}</c>), as in
/// the HTTP Jobs API. Add a source-generated context with
/// <c>SerializerOptions.TypeInfoResolverChain.Insert(0, MyJsonContext.Default)</c>.
/// </summary>
public sealed class ConveyorJsonOptions
{
    /// <summary>The options payloads and results are serialized with (web defaults); add your source-generated context's resolver here.</summary>
    public JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
