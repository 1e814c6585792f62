using System.Net.Sockets;
using System.Text;

namespace Conveyor.Tests.Http;

/// <summary>
/// A request sent as raw bytes over TCP, for what an HTTP client refuses to send (bad chunking, dot segments, odd
/// request lines); the whole answer as text, the server closing the connection (send <c>Connection: close</c>).
/// </summary>
internal static class RawHttp
{
    public static async Task<string> SendAsync(Uri address, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await reader.ReadToEndAsync(timeout.Token);
    }
}
