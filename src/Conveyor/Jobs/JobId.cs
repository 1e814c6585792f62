using System.Security.Cryptography;

namespace Conveyor;

/// <summary>Job ids: <c>job_</c> followed by 32 lowercase hex digits (128 random bits), as in the Jobs API.</summary>
public static class JobId
{
    /// <summary>The prefix of every generated id.</summary>
    public const string Prefix = "job_";

    /// <summary>Length of a generated id.</summary>
    public const int Length = 36;

    /// <summary>Longest explicit id a caller may choose.</summary>
    public const int MaxLength = 128;

    /// <summary>A new random id.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return string.Create(Length, bytes.ToArray(), static (chars, source) =>
        {
            Prefix.AsSpan().CopyTo(chars);
            Convert.TryToHexStringLower(source, chars[Prefix.Length..], out _);
        });
    }

    /// <summary>True for an id of the generated shape (<c>job_</c> + 32 lowercase hex).</summary>
    public static bool IsGenerated(string? id)
    {
        if (id is null || id.Length != Length || !id.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in id.AsSpan(Prefix.Length))
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True for an id a caller may choose: 1 to 128 characters of letters, digits, '_', '-', ':' and '.'.
    /// The limit keeps ids safe as Redis keys, URL segments and SQL values.
    /// </summary>
    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or ':' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
