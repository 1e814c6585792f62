using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Conveyor.Storage;

/// <summary>A job's dependencies as the SQLite and PostgreSQL depends_on column keeps them (compiled into each of those stores): JSON <c>[[id, success_only, on_batch], …]</c>, success_only 2 for a success-only dependency that fails its dependant (<see cref="JobDependency.FailIfUnmet"/>).</summary>
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
                writer.WriteNumberValue(dependency.FailsDependant ? 2 : dependency.SuccessOnly ? 1 : 0);
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
            var successOnly = item[1].GetInt32();
            dependencies.Add(new JobDependency(item[0].GetString()!, successOnly != 0, item[2].GetInt32() != 0, FailIfUnmet: successOnly == 2));
        }

        return dependencies;
    }
}
