using System.Security.Cryptography;
using System.Text;

namespace Conveyor.AspNetCore;

/// <summary>SHA-256 of API keys: the only form in which keys are kept after start-up.</summary>
internal static class ApiKeyHash
{
    public const int Size = 32;

    public static byte[] Compute(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static void Compute(ReadOnlySpan<char> key, Span<byte> destination)
    {
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        var rented = max <= 512 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(max);
        var bytes = rented ?? stackalloc byte[512];
        try
        {
            var written = Encoding.UTF8.GetBytes(key, bytes);
            SHA256.HashData(bytes[..written], destination);
            bytes[..written].Clear();
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static bool TryParseHex(string hex, out byte[] hash)
    {
        hash = [];
        if (hex.Length != Size * 2)
        {
            return false;
        }

        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        hash = Convert.FromHexString(hex);
        return true;
    }
}
