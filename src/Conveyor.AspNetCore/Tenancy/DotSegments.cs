using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Conveyor.AspNetCore;

/// <summary>
/// Whether the path a client sent holds a '.' or '..' segment (also as %2E). The server removes such segments before
/// routing, so <c>GET /jobs/.</c> would reach the listing and <c>DELETE /jobs/..</c> another route: a request that named
/// a job, queue or schedule called '.' is refused instead of answered as if it named something else.
/// </summary>
internal static class DotSegments
{
    public static bool InRequestTarget(HttpContext http)
    {
        var target = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target))
        {
            return false;
        }

        var path = target.AsSpan();
        var query = path.IndexOf('?');
        if (query >= 0)
        {
            path = path[..query];
        }

        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (IsDots(segment))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True for the names '.' and '..'. The library and the stores accept them (data stored by earlier versions stays
    /// readable), but the API refuses to create a queue, schedule or limit so named: no path could name it afterwards.
    /// </summary>
    public static bool IsDotName(string? name) => name is "." or "..";

    /// <summary>The reason of a refused <see cref="IsDotName"/> name, after the field.</summary>
    public static string DotNameReason(string name) =>
        $"'{name}' cannot be a name here: a URL's '.' and '..' segments are removed before routing, so no path could name it; choose another.";

    /// <summary>True for '.' or '..', each dot plain or percent-encoded.</summary>
    private static bool IsDots(ReadOnlySpan<char> segment)
    {
        var dots = 0;
        while (!segment.IsEmpty)
        {
            if (segment[0] == '.')
            {
                segment = segment[1..];
            }
            else if (segment.StartsWith("%2e", StringComparison.OrdinalIgnoreCase))
            {
                segment = segment[3..];
            }
            else
            {
                return false;
            }

            dots++;
        }

        return dots is 1 or 2;
    }
}
