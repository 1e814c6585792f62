using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Conveyor.Storage;

/// <summary>
/// A batch's <see cref="WorkflowDefinition"/> as the stores keep it (compiled into each store that keeps text): JSON
/// <c>{"name": …, "steps": [[name, job_id, [after, …]], …]}</c>.
/// </summary>
internal static class WorkflowJson
{
    public static string Encode(WorkflowDefinition workflow)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (96 * workflow.Steps.Count));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", workflow.Name);
            writer.WriteStartArray("steps");
            foreach (var step in workflow.Steps)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(step.Name);
                writer.WriteStringValue(step.JobId);
                writer.WriteStartArray();
                foreach (var after in step.After)
                {
                    writer.WriteStringValue(after);
                }

                writer.WriteEndArray();
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static WorkflowDefinition Decode(string text)
    {
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        var steps = new List<WorkflowStepDefinition>();
        foreach (var item in root.GetProperty("steps").EnumerateArray())
        {
            var after = new List<string>();
            foreach (var a in item[2].EnumerateArray())
            {
                after.Add(a.GetString()!);
            }

            steps.Add(new WorkflowStepDefinition(item[0].GetString()!, item[1].GetString()!, after));
        }

        return new WorkflowDefinition(name, steps);
    }
}
