using System.Buffers;
using System.Text.Json;
using Conveyor.Serialization;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Reads the JSON object at the root of a request body (or nested in one); on failure names the field and the reason.</summary>
internal delegate T? JsonObjectReader<T>(JsonElement value, out ParseError? error)
    where T : class;

/// <summary>
/// The checks every JSON request body of the API shares, in one place: the body is JSON within a nesting depth, its root
/// is an object, no field is unknown or given twice, and a string with a lone UTF-16 surrogate escape is refused by name
/// rather than thrown as a server error. Each request's own parser reads the fields.
/// </summary>
internal static class JsonRequest
{
    private static readonly ParseError LoneSurrogate = new("body", "contains an invalid \\u escape (a lone UTF-16 surrogate).");

    /// <summary>
    /// Parses <paramref name="body"/> and hands its root object to <paramref name="read"/>; "body" is the field of a
    /// refusal of the JSON itself, with <paramref name="example"/> shown when the root is not an object.
    /// </summary>
    public static T? Read<T>(ReadOnlySequence<byte> body, int maxDepth, string example, JsonObjectReader<T> read, out ParseError? error)
        where T : class
    {
        error = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            // Every body nests a job's payload one level under its root, or as many more as its maxDepth adds to POST
            // /jobs's: the path is named down to that field (payload, jobs[3].payload), and no deeper.
            error = TooDeep(body, maxDepth, Math.Max(1, maxDepth - CreateJobRequestParser.MaxDepth + 1), "body")
                ?? DuplicateName(body, maxDepth, "")
                ?? new ParseError("body", $"is not valid JSON ({CreateJobRequestParser.TrimMessage(e.Message)}).");
            return null;
        }
        catch (InvalidOperationException)
        {
            // Comparing names for duplicates decodes them: a name with a lone surrogate escape fails here, not in read.
            error = LoneSurrogate;
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = new ParseError("body", $"must be a JSON object such as {example}; it is {CreateJobRequestParser.Describe(root.ValueKind)}.");
                return null;
            }

            try
            {
                return read(root, out error);
            }
            catch (InvalidOperationException)
            {
                // A string with a lone UTF-16 surrogate escape (\ud800) parses as JSON but is not text: named by its field.
                error = LoneSurrogate with { Field = LoneSurrogatePath(root, "") ?? LoneSurrogate.Field };
                return null;
            }
        }
    }

    /// <summary>The path of the first string under <paramref name="element"/> (a name or a value) that is not text; null when none is.</summary>
    private static string? LoneSurrogatePath(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return path.Length == 0 ? null : path;
                }

            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return path.Length == 0 ? null : path;
                    }

                    if (LoneSurrogatePath(property.Value, Join(path, name)) is { } found)
                    {
                        return found;
                    }
                }

                return null;

            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (LoneSurrogatePath(item, Join(path, $"[{index++}]")) is { } found)
                    {
                        return found;
                    }
                }

                return null;

            default:
                return null;
        }
    }

    /// <summary>
    /// The refusal of JSON nested deeper than <paramref name="maxDepth"/> arrays and objects: valid JSON the API does
    /// not read, so not called invalid. It names the field the too deep value is in, its path taken at most
    /// <paramref name="namedLevels"/> levels down (<paramref name="root"/> for the body itself), and how deep that
    /// field may nest. Null when the body is not JSON before it gets that deep.
    /// </summary>
    public static ParseError? TooDeep(ReadOnlySequence<byte> body, int maxDepth, int namedLevels, string root)
    {
        // What each of the first levels is: an array (its item's index) or an object (its property's name).
        var path = new string[namedLevels];
        var isArray = new bool[namedLevels + 1];
        var index = new int[namedLevels + 1];
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth + 1 });
        try
        {
            while (reader.Read())
            {
                var depth = reader.CurrentDepth;
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (depth <= namedLevels)
                    {
                        path[depth - 1] = CreateJobRequestParser.Shorten(reader.GetString()!);
                    }

                    continue;
                }

                if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    continue;
                }

                if (depth > 0 && depth <= namedLevels && isArray[depth - 1])
                {
                    path[depth - 1] = $"[{++index[depth - 1]}]";
                }

                if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
                {
                    continue;
                }

                if (depth == maxDepth)
                {
                    // An array at the root has no field to name: the body (or the payload) is.
                    var named = isArray[0] ? 0 : Math.Min(namedLevels, depth);
                    var field = named == 0 ? root : path.Take(named).Aggregate("", Join);
                    return new ParseError(field, $"is JSON nested deeper than the {maxDepth - named} levels of arrays and objects the API reads there.");
                }

                if (depth <= namedLevels)
                {
                    isArray[depth] = reader.TokenType == JsonTokenType.StartArray;
                    index[depth] = -1;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON before it got too deep: another refusal says so.
        }

        return null;
    }

    /// <summary>
    /// The refusal of a name given twice in one object anywhere in the body (a payload read two ways by two readers), named
    /// by its path; null when the body fails for another reason. Only after the strict parse failed, so a valid body is
    /// read once. Paths start at <paramref name="root"/> ("" for a body whose names are fields).
    /// </summary>
    public static ParseError? DuplicateName(ReadOnlySequence<byte> body, int maxDepth, string root)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth });
            return JsonDuplicateNames.Find(document.RootElement, root) is { } path ? new ParseError(path, "appears more than once.") : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// False with the field when <paramref name="value"/> (an object at <paramref name="path"/>, "" for the root) has a
    /// field not in <paramref name="fields"/> or one field twice; <paramref name="what"/> names the object in the message.
    /// </summary>
    public static bool CheckFields(JsonElement value, string path, IReadOnlyCollection<string> fields, string what, out ParseError? error)
    {
        error = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var field = Join(path, CreateJobRequestParser.Shorten(property.Name));
            if (!fields.Contains(property.Name))
            {
                error = new ParseError(field, $"is not a field of {what}; it has: {string.Join(", ", fields)}.");
                return false;
            }

            if (!seen.Add(property.Name))
            {
                error = new ParseError(field, "appears more than once.");
                return false;
            }
        }

        return true;
    }

    /// <summary>An array of 1 to <paramref name="max"/> items, or false with a refusal naming <paramref name="field"/>.</summary>
    public static bool CheckArray(JsonElement value, string field, int max, string items, out ParseError? error)
    {
        error = null;
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() is > 0 and var count && count <= max)
        {
            return true;
        }

        error = new ParseError(field, $"must be an array of 1 to {max} {items}; it is {(value.ValueKind == JsonValueKind.Array ? $"an array of {value.GetArrayLength()}" : CreateJobRequestParser.Describe(value.ValueKind))}.");
        return false;
    }

    /// <summary>
    /// The required array <paramref name="field"/> of the object <paramref name="value"/> in <paramref name="array"/>:
    /// false with the field named when it is missing (<paramref name="whenMissing"/> the reason) or is not an array of 1
    /// to <paramref name="max"/> <paramref name="items"/>.
    /// </summary>
    public static bool TryGetRequiredArray(JsonElement value, string field, int max, string items, string whenMissing, out JsonElement array, out ParseError? error)
    {
        if (!value.TryGetProperty(field, out array))
        {
            error = new ParseError(field, whenMissing);
            return false;
        }

        return CheckArray(array, field, max, items, out error);
    }

    /// <summary>
    /// The optional field <paramref name="field"/> of the object <paramref name="value"/>; false when it is absent or null.
    /// The API's one rule for every optional field of every body: null is the same as leaving the field out (a client
    /// that writes null for "not given" is read as one that omits it), and the OpenAPI document marks the field nullable.
    /// </summary>
    public static bool TryGetOptional(JsonElement value, string field, out JsonElement property) =>
        value.TryGetProperty(field, out property) && property.ValueKind != JsonValueKind.Null;

    /// <summary>
    /// The optional field <paramref name="field"/> of the object <paramref name="value"/>, a positive number of seconds
    /// (null when absent or null); false with the field named when it is not one.
    /// </summary>
    public static bool TryGetOptionalSeconds(JsonElement value, string field, out TimeSpan? seconds, out ParseError? error)
    {
        seconds = null;
        error = null;
        if (!TryGetOptional(value, field, out var secondsValue))
        {
            return true;
        }

        if (!CreateJobRequestParser.TryGetSeconds(secondsValue, field, positive: true, out var read, out error))
        {
            return false;
        }

        seconds = read;
        return true;
    }

    /// <summary>A field's path: <c>jobs[3]</c> and <c>queue</c> make <c>jobs[3].queue</c>; "body" within a part names the part.</summary>
    public static string Join(string path, string field) =>
        path.Length == 0 ? field : field is "body" or "" ? path : field.StartsWith('[') ? path + field : path + "." + field;

    /// <summary>The refusal of a nested reader, its field put under <paramref name="path"/>.</summary>
    public static ParseError Under(string path, ParseError error) => error with { Field = Join(path, error.Field) };
}
