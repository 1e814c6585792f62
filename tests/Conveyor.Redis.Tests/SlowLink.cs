using System.Net;
using System.Net.Sockets;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A loopback forwarder to a Redis that holds back every chunk of Redis's answers for <see cref="Delay"/>, as a slow link
/// or a loaded machine does: a client whose connectTimeout is shorter waits it out in its handshake.
/// </summary>
internal sealed class SlowLink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly int _redisPort;
    private readonly Task _accepting;

    private SlowLink(int redisPort, TimeSpan delay)
    {
        _redisPort = redisPort;
        Delay = delay;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public TimeSpan Delay { get; }

    public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public static SlowLink To(int redisPort, TimeSpan delay) => new(redisPort, delay);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var links = new List<Task>();
        try
        {
            while (true)
            {
                links.Add(ForwardAsync(await _listener.AcceptTcpClientAsync(_stop.Token)));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(links);
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using var redis = new TcpClient();
        using var link = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        try
        {
            using (client)
            {
                await redis.ConnectAsync(IPAddress.Loopback, _redisPort, link.Token);
                var toRedis = client.GetStream().CopyToAsync(redis.GetStream(), link.Token);
                var fromRedis = CopyLateAsync(redis.GetStream(), client.GetStream(), link.Token);
                await Task.WhenAny(toRedis, fromRedis);
                await link.CancelAsync();
                await Task.WhenAll(toRedis, fromRedis);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // One side closed: so does the link.
        }
    }

    private async Task CopyLateAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await Task.Delay(Delay, cancellationToken);
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }
}
