using System.Security.Cryptography;

namespace Conveyor;

/// <summary>Batch ids: <c>batch_</c> followed by 32 lowercase hex digits (128 random bits).</summary>
public static class BatchId
{
    /// <summary>The prefix of every batch id.</summary>
    public const string Prefix = "batch_";

    /// <summary>Length of a batch id.</summary>
    public const int Length = 38;

    /// <summary>A new random id.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Prefix + Convert.ToHexStringLower(bytes);
    }

    /// <summary>True for an id of the batch id's shape.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: Length }
        && id.StartsWith(Prefix, StringComparison.Ordinal)
        && id.AsSpan(Prefix.Length).ContainsAnyExcept("0123456789abcdef") is false;
}
