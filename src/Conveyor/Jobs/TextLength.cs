namespace Conveyor;

/// <summary>
/// A text's length in characters as a user counts them and the Jobs API's OpenAPI <c>maxLength</c> does (JSON Schema:
/// Unicode code points), not as <see cref="string.Length"/> does: an emoji is one character, not two UTF-16 code units.
/// </summary>
internal static class TextLength
{
    public static int Of(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }
}
