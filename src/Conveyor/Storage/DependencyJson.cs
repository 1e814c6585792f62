using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Conveyor.Storage;

/// <summary>A job's dependencies as the SQLite and PostgreSQL depends_on column keeps them (compiled into each of those stores): JSON <c>[[id, success_only, on_batch], …]</c>.</summary>
internal static class DependencyJson
{
    public static string Encode(IReadOnlyList<JobDependency> dependencies)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * dependencies.Count);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var dependency in dependencies)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(dependency.Id);
                writer.WriteNumberValue(dependency.SuccessOnly ? 1 : 0);
                writer.WriteNumberValue(dependency.OnBatch ? 1 : 0);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static IReadOnlyList<JobDependency> Decode(string text)
    {
        using var document = JsonDocument.Parse(text);
        var dependencies = new List<JobDependency>();
        foreach (var item in document.RootElement.EnumerateArray())
        {
            dependencies.Add(new JobDependency(item[0].GetString()!, item[1].GetInt32() != 0, item[2].GetInt32() != 0));
        }

        return dependencies;
    }
}
