using System.Buffers;
using System.Text;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.Sqlite.Internal;

/// <summary>
/// A job's errors are stored as one JSON object per line, oldest first, so that appending is a string
/// concatenation inside the UPDATE that ends the attempt (no read-modify-write). Keys: attempt, message,
/// exceptionType, item, occurredAt (Unix microseconds), stackTrace (absent when none); RecoverExpired.sql writes the same shape.
/// </summary>
internal static class JobErrorLines
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>The lines to append for an attempt: its item errors, then its own error; "" for none.</summary>
    public static string Encode(IReadOnlyList<JobError> itemErrors, JobError? error)
    {
        if (itemErrors.Count == 0 && error is null)
        {
            return string.Empty;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        foreach (var item in itemErrors)
        {
            Write(buffer, item);
        }

        if (error is not null)
        {
            Write(buffer, error);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static IReadOnlyList<JobError> Decode(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var errors = new List<JobError>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            errors.Add(new JobError(
                Attempt: root.GetProperty("attempt").GetInt32(),
                Message: root.GetProperty("message").GetString() ?? string.Empty,
                ExceptionType: GetString(root, "exceptionType"),
                Item: GetString(root, "item"),
                OccurredAt: UnixTime.FromMicroseconds(root.GetProperty("occurredAt").GetInt64()))
            {
                StackTrace = GetString(root, "stackTrace"),
            });
        }

        return errors;
    }

    /// <summary>Whether the last line's message contains <paramref name="text"/> (folded by JobQuery.FoldAsciiCase), ASCII case ignored (JobQuery.ErrorContains).</summary>
    public static bool LastMessageContains(string? errors, string? text)
    {
        if (string.IsNullOrEmpty(errors) || text is null)
        {
            return false;
        }

        var end = errors.Length;
        while (end > 0 && errors[end - 1] == '\n')
        {
            end--;
        }

        var start = errors.LastIndexOf('\n', Math.Max(end - 1, 0)) + 1;
        if (end <= start)
        {
            return false;
        }

        using var document = JsonDocument.Parse(errors.AsMemory(start, end - start));
        return document.RootElement.TryGetProperty("message", out var message)
            && message.ValueKind == JsonValueKind.String
            && JobQuery.FoldAsciiCase(message.GetString()!).Contains(text, StringComparison.Ordinal);
    }

    private static void Write(ArrayBufferWriter<byte> buffer, JobError error)
    {
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("attempt", error.Attempt);
            writer.WriteString("message", error.Message);
            WriteNullable(writer, "exceptionType", error.ExceptionType);
            WriteNullable(writer, "item", error.Item);
            writer.WriteNumber("occurredAt", UnixTime.ToMicroseconds(error.OccurredAt));
            if (error.StackTrace is not null)
            {
                writer.WriteString("stackTrace", error.StackTrace);
            }

            writer.WriteEndObject();
        }

        // The default encoder escapes control characters, so a message's own line breaks never split a line.
        buffer.Write("\n"u8);
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static string? GetString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
