using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore;

/// <summary>
/// Maps the API key of a request (<c>Authorization: Bearer KEY</c> or <c>X-Api-Key: KEY</c>) to its tenant. Keys are
/// kept only as SHA-256 hashes, and the presented key's hash is compared with every configured hash in constant time,
/// so neither timing nor memory dumps reveal a key.
/// </summary>
internal sealed class ApiKeyTenantResolver
{
    public const string ApiKeyHeader = "X-Api-Key";

    private static readonly ConveyorCaller Anonymous = new(TenantId.Default, IsAdmin: true);

    private readonly (byte[] Hash, ConveyorCaller Caller)[] _keys;

    public ApiKeyTenantResolver(IOptions<ConveyorApiOptions> options)
    {
        _keys = options.Value.Keys
            .Select(k => (
                k.Key is { Length: > 0 } key ? ApiKeyHash.Compute(key) : Convert.FromHexString(k.KeyHash!),
                new ConveyorCaller(k.Tenant, k.Admin)))
            .ToArray();
    }

    /// <summary>True when keys are configured, so that every request must present one.</summary>
    public bool KeysRequired => _keys.Length > 0;

    /// <summary>The caller, or null when keys are required and the request has none or an unknown one.</summary>
    public ConveyorCaller? Resolve(HttpRequest request)
    {
        if (_keys.Length == 0)
        {
            return Anonymous;
        }

        var presented = ReadKey(request);
        if (presented.IsEmpty)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[ApiKeyHash.Size];
        ApiKeyHash.Compute(presented, hash);
        ConveyorCaller? match = null;
        // Every configured hash is compared, matched or not, so the time taken does not tell which key matched.
        foreach (var (keyHash, caller) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, keyHash))
            {
                match = caller;
            }
        }

        return match;
    }

    /// <summary>
    /// The key presented in either header, each given once or more; none (a 401) when they present different keys, as a
    /// request that names two callers is not taken as either. The same key sent twice (a client and a proxy each adding
    /// it) is that key.
    /// </summary>
    private static ReadOnlySpan<char> ReadKey(HttpRequest request)
    {
        ReadOnlySpan<char> key = [];
        foreach (var value in request.Headers.Authorization)
        {
            if (value is not null && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && !Agrees(ref key, value.AsSpan(7).Trim()))
            {
                return [];
            }
        }

        foreach (var value in request.Headers[ApiKeyHeader])
        {
            if (!Agrees(ref key, value.AsSpan().Trim()))
            {
                return [];
            }
        }

        return key;
    }

    /// <summary>Takes <paramref name="presented"/> as the key unless it is empty; false when another key was presented before.</summary>
    private static bool Agrees(ref ReadOnlySpan<char> key, ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty || presented.SequenceEqual(key))
        {
            return true;
        }

        if (!key.IsEmpty)
        {
            return false;
        }

        key = presented;
        return true;
    }
}
