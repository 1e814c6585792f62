using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Conveyor.AspNetCore.Dashboard;

/// <summary>
/// The dashboard's static files (HTML, CSS, JavaScript modules), embedded in the assembly under
/// <c>Conveyor.AspNetCore.Dashboard.wwwroot.</c> and read once, with an ETag each.
/// </summary>
internal sealed class DashboardAssets
{
    private const string Prefix = "Conveyor.AspNetCore.Dashboard.wwwroot.";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary();

    private readonly FrozenDictionary<string, DashboardAsset> _files;

    private DashboardAssets(FrozenDictionary<string, DashboardAsset> files) => _files = files;

    public static DashboardAssets Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var files = new Dictionary<string, DashboardAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var file = name[Prefix.Length..];
            if (!ContentTypes.TryGetValue(Path.GetExtension(file), out var contentType))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 8)) + "\"";
            files[file] = new DashboardAsset(bytes, contentType, etag);
        }

        if (!files.ContainsKey("index.html"))
        {
            throw new InvalidOperationException("The dashboard page is missing from Conveyor.AspNetCore.");
        }

        return new DashboardAssets(files.ToFrozenDictionary(StringComparer.Ordinal));
    }

    public DashboardAsset Index => _files["index.html"];

    public DashboardAsset? Find(string file) => _files.GetValueOrDefault(file);
}

/// <summary>One embedded file of the dashboard.</summary>
internal sealed record DashboardAsset(byte[] Content, string ContentType, string ETag);
