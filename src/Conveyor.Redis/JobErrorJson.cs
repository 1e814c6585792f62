using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Conveyor.Redis;

/// <summary>
/// A job's errors as the job hash keeps them: a JSON array of <c>{"a":attempt,"m":message,"x":type,"i":item,"o":µs,"s":stack trace}</c>,
/// appended to as text by the scripts (recover.lua writes the same shape).
/// </summary>
internal static class JobErrorJson
{
    public static string Write(JobError error)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("a", error.Attempt);
            writer.WriteString("m", error.Message);
            if (error.ExceptionType is not null)
            {
                writer.WriteString("x", error.ExceptionType);
            }

            if (error.Item is not null)
            {
                writer.WriteString("i", error.Item);
            }

            writer.WriteNumber("o", RedisTime.ToMicros(error.OccurredAt));
            if (error.StackTrace is not null)
            {
                writer.WriteString("s", error.StackTrace);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Several errors as JSON objects joined by commas (what the scripts append), or "" for none.</summary>
    public static string WriteMany(IReadOnlyList<JobError> errors)
    {
        if (errors.Count == 0)
        {
            return string.Empty;
        }

        var builder = new StringBuilder();
        foreach (var error in errors)
        {
            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(Write(error));
        }

        return builder.ToString();
    }

    public static IReadOnlyList<JobError> Read(byte[]? json)
    {
        if (json is null || json.Length == 0)
        {
            return [];
        }

        var errors = new List<JobError>();
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new FormatException("The job's errors are not a JSON array.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            int attempt = 0;
            string message = string.Empty;
            string? type = null, item = null, stack = null;
            long occurred = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "a": attempt = reader.GetInt32(); break;
                    case "m": message = reader.GetString() ?? string.Empty; break;
                    case "x": type = reader.GetString(); break;
                    case "i": item = reader.GetString(); break;
                    case "s": stack = reader.GetString(); break;
                    case "o": occurred = reader.TokenType == JsonTokenType.String ? long.Parse(reader.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : reader.GetInt64(); break;
                    default: reader.Skip(); break;
                }
            }

            errors.Add(new JobError(attempt, message, type, item, RedisTime.FromMicros(occurred)) { StackTrace = stack });
        }

        return errors;
    }
}
