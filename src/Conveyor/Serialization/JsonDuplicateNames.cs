using System.Text.Json;

namespace Conveyor.Serialization;

/// <summary>
/// Finds a name given twice in one object of a JSON value: such JSON is read one way by one reader and another way by
/// the next, so payloads refuse it, and the refusal names where (the Jobs API's problems, the .NET client's exceptions).
/// </summary>
internal static class JsonDuplicateNames
{
    /// <summary>
    /// The path of the first name given twice, under <paramref name="root"/> ("" for a body whose names are fields), or
    /// null when every object's names differ. Long names are cut to 80 characters, as every refusal cuts them.
    /// </summary>
    public static string? Find(JsonElement value, string root)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                if (Find(item, $"{root}[{index++}]") is { } found)
                {
                    return found;
                }
            }
        }
        else if (value.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in value.EnumerateObject())
            {
                var field = Child(root, property.Name);
                if (!seen.Add(property.Name))
                {
                    return field;
                }

                if (Find(property.Value, field) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The path of a member as System.Text.Json writes the paths of its own errors (which the same refusals carry): dotted,
    /// or in brackets where a dot would mislead (an empty name made <c>payload.</c>, and <c>a.b</c> read as a member of
    /// <c>a</c>): <c>payload['a.b']</c>.
    /// </summary>
    private static string Child(string root, string name)
    {
        var shown = Shorten(name);
        return name.Length > 0 && !name.Any(static c => c is '.' or '\'' or '"' or '[' or ']' or '(' or ')' or '/' or '\\' || char.IsWhiteSpace(c) || char.IsControl(c))
            ? (root.Length == 0 ? shown : $"{root}.{shown}")
            : $"{root}['{shown}']";
    }

    /// <summary>A name or value cut to 80 characters for a message.</summary>
    public static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "...");
}
