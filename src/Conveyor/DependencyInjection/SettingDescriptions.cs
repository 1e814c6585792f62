using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;

namespace Microsoft.Extensions.DependencyInjection;

// The words of a message about a setting that cannot be read: what a setting accepts and the valid key nearest a
// misspelt one. Shared by the options binding of every package and the bundled server's check of its settings (a
// linked source file, so it is no part of any package's public API). Plain comments, not XML docs: the bundled server
// compiles this file too, and its OpenAPI generator reads the XML docs of the server and of the packages it references
// into one table keyed by member, where a member documented twice stops every document with a duplicate key.
internal static class SettingDescriptions
{
    // "a whole number from 1 to 10000", "true or false", "one of: Snooze, Fail"…
    public static string Accepts(Type type, string? range)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when range is not null && (type == typeof(int) || type == typeof(long)) => $"a whole number from {range}",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(TimeSpan) => "a duration as [d.]hh:mm:ss[.fff], such as 00:00:30",
            _ when type.IsEnum => "one of: " + string.Join(", ", Enum.GetNames(type)),
            _ when type == typeof(int) => "a whole number (from -2147483648 to 2147483647, and within the setting's range)",
            _ when type == typeof(long) || type == typeof(short) => "a whole number",
            _ when type == typeof(double) || type == typeof(decimal) || type == typeof(float) => "a number",
            _ => "a " + type.Name,
        };
    }

    // "min to max" of the setting's range attribute (RangeAttribute, the core's SettingRangeAttribute), if any.
    public static string? RangeOf(PropertyInfo property) => RangeIn(property.GetCustomAttributes<ValidationAttribute>());

    // "min to max" of each value of a dictionary setting (the core's SettingValuesRangeAttribute: a queue's weight), if
    // any. Found by its name: the packages and the bundled server that compile this file cannot see the core's type.
    public static string? ValuesRangeOf(PropertyInfo property) =>
        RangeIn(property.GetCustomAttributes().Where(static a => a.GetType().Name == "SettingValuesRangeAttribute"));

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "A trimmed Minimum or Maximum only leaves the range out of the message.")]
    private static string? RangeIn(IEnumerable<Attribute> attributes)
    {
        foreach (var attribute in attributes)
        {
            var type = attribute.GetType();
            if (type.GetProperty("Minimum")?.GetValue(attribute) is { } minimum && type.GetProperty("Maximum")?.GetValue(attribute) is { } maximum)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{minimum} to {maximum}");
            }
        }

        return null;
    }

    // The key at the smallest edit distance, if it is close enough to be a misspelling.
    public static string? Nearest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(key.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
