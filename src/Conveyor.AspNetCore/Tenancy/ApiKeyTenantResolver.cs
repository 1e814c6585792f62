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
    /// The key presented in either header; none (a 401) when the two headers present different keys, as a request
    /// that names two callers is not taken as either.
    /// </summary>
    private static ReadOnlySpan<char> ReadKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        var bearer = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization.AsSpan(7).Trim() : [];
        var apiKey = request.Headers[ApiKeyHeader].ToString().AsSpan().Trim();
        if (!bearer.IsEmpty && !apiKey.IsEmpty && !bearer.SequenceEqual(apiKey))
        {
            return [];
        }

        return bearer.IsEmpty ? apiKey : bearer;
    }
}
