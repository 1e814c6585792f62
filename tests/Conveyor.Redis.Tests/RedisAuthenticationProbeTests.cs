using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// The start's own question to Redis about its credentials (<see cref="RedisAuthenticationProbe"/>), against a loopback
/// listener that answers as told: it learns a refusal only from Redis's words, and never fails a start on its own account.
/// </summary>
public sealed class RedisAuthenticationProbeTests
{
    [Fact]
    public async Task ARefusal_IsNamed_ThroughAHostName()
    {
        await using var server = Answering.With("-WRONGPASS invalid username-password pair or user is disabled.\r\n");

        var refusal = await RedisAuthenticationProbe.RefusalAsync(ConfigurationOptions.Parse($"localhost:{server.Port},password=wrong"), CancellationToken.None);

        Assert.StartsWith("WRONGPASS", refusal?.Answer, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HTTP/1.1 400 Bad Request\r\n")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n")]
    [InlineData("")]
    public async Task AServiceThatIsNotRedis_IsNoRefusal(string answer)
    {
        await using var server = Answering.With(answer);

        Assert.Null(await RedisAuthenticationProbe.RefusalAsync(ConfigurationOptions.Parse($"127.0.0.1:{server.Port},password=x"), CancellationToken.None));
    }

    [Fact]
    public async Task AServiceThatNeverAnswers_IsNoRefusal_WithinTheProbesBound()
    {
        await using var server = Answering.With(null);
        var started = TimeProvider.System.GetTimestamp();

        Assert.Null(await RedisAuthenticationProbe.RefusalAsync(ConfigurationOptions.Parse($"127.0.0.1:{server.Port}"), CancellationToken.None));
        Assert.InRange(TimeProvider.System.GetElapsedTime(started), TimeSpan.Zero, RedisAuthenticationProbe.Timeout * 3);
    }

    // A start stopped while it asks (the host shutting down) ends cancelled, as it does everywhere else in the start,
    // not as a store that is away.
    [Fact]
    public async Task AStartStoppedWhileItAsks_EndsCancelled()
    {
        await using var server = Answering.With(null);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RedisAuthenticationProbe.RefusalAsync(ConfigurationOptions.Parse($"127.0.0.1:{server.Port}"), stop.Token));
    }

    /// <summary>Accepts connections on loopback and writes <c>answer</c> on each (null: never answers), then holds it open.</summary>
    private sealed class Answering : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Socket> _accepted = [];
        private readonly Task _accepting;

        private Answering(string? answer)
        {
            _listener.Start();
            _accepting = AcceptAsync(answer);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Answering With(string? answer) => new(answer);

        private async Task AcceptAsync(string? answer)
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    lock (_accepted)
                    {
                        _accepted.Add(socket);
                    }

                    if (answer is not null)
                    {
                        await socket.SendAsync(Encoding.UTF8.GetBytes(answer), SocketFlags.None, _stop.Token);
                        if (answer.Length == 0)
                        {
                            socket.Shutdown(SocketShutdown.Send);
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _accepting;
            _listener.Stop();
            lock (_accepted)
            {
                foreach (var socket in _accepted)
                {
                    socket.Dispose();
                }
            }

            _stop.Dispose();
        }
    }
}
