using System.Globalization;

namespace Conveyor.AspNetCore.Metrics;

/// <summary>
/// The tags of one measurement as a dictionary key that costs no allocation for up to three string tags (every
/// instrument of the Conveyor meter has at most three): equal keys and values in the same order are the same series.
/// </summary>
internal readonly record struct SeriesKey(string? Key0, string? Value0, string? Key1, string? Value1, string? Key2, string? Value2, string? More)
{
    public static SeriesKey From(ReadOnlySpan<KeyValuePair<string, object?>> tags) => tags.Length switch
    {
        0 => default,
        1 => new(tags[0].Key, Text(tags[0].Value), null, null, null, null, null),
        2 => new(tags[0].Key, Text(tags[0].Value), tags[1].Key, Text(tags[1].Value), null, null, null),
        3 => new(tags[0].Key, Text(tags[0].Value), tags[1].Key, Text(tags[1].Value), tags[2].Key, Text(tags[2].Value), null),
        _ => new(tags[0].Key, Text(tags[0].Value), tags[1].Key, Text(tags[1].Value), tags[2].Key, Text(tags[2].Value), Rest(tags[3..])),
    };

    public static string Text(object? value) => value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    private static string Rest(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var parts = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            parts[i] = tags[i].Key + "\u0000" + Text(tags[i].Value);
        }

        return string.Join('\u0001', parts);
    }
}
