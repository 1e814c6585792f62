using System.Text;
using System.Text.Unicode;
using System.Web;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Finds a query parameter whose percent-escapes are not UTF-8 (<c>?error=%FF</c>). ASP.NET Core decodes such bytes to
/// U+FFFD, so a filter would silently match on a replacement character; a body with the same bytes is refused, and a
/// query is refused the same way.
/// </summary>
internal static class Utf8QueryString
{
    /// <summary>The first parameter (its name, or "query" where the name itself is not UTF-8) that is not; null if all are.</summary>
    public static string? FirstInvalid(string? rawQuery)
    {
        if (string.IsNullOrEmpty(rawQuery) || !rawQuery.Contains('%', StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var pair in rawQuery.TrimStart('?').Split('&'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            if (!IsUtf8(name))
            {
                return "query";
            }

            if (equals >= 0 && !IsUtf8(pair[(equals + 1)..]))
            {
                return Uri.UnescapeDataString(name.Replace('+', ' '));
            }
        }

        return null;
    }

    private static bool IsUtf8(string escaped) =>
        !escaped.Contains('%', StringComparison.Ordinal) || Utf8.IsValid(HttpUtility.UrlDecodeToBytes(escaped, Encoding.UTF8));
}
