using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// Asks the Redis servers of the configuration, each on a short-lived socket of its own, whether they refuse its
/// credentials: for a start whose own connection reached no server to say so. StackExchange.Redis names a refusal only
/// when its handshake got as far as the answer to AUTH; one that waited out connectTimeout first (a loaded machine, a
/// slow network) names a timeout, and the same connection's later tries have gone on naming only that. Nothing of the
/// store's connection is touched: replacing it per try left calls on the old one meeting a disposed client.
/// </summary>
/// <remarks>
/// One command (AUTH with the configuration's user= and password=, or PING without a password) and one line of
/// answer. Over TLS (ssl=) and to Sentinels (serviceName=) it asks nothing: the start keeps the message it had.
/// </remarks>
internal static class RedisAuthenticationProbe
{
    /// <summary>How long the probe waits for all the servers together: a start try has waited its own timeouts already.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private const int MaxAnswerBytes = 1024;

    /// <summary>The first server that refused the credentials and its words (NOAUTH, WRONGPASS …), or null.</summary>
    public static async Task<(EndPoint EndPoint, string Answer)?> RefusalAsync(ConfigurationOptions options, CancellationToken cancellationToken)
    {
        if (options.Ssl || !string.IsNullOrEmpty(options.ServiceName))
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        foreach (var endPoint in options.EndPoints)
        {
            try
            {
                var answer = await AnswerAsync(endPoint, options.User, options.Password, timeout.Token).ConfigureAwait(false);
                if (IsRefusal(answer))
                {
                    return (endPoint, answer[1..]);
                }
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Not there, no answer in time, or an address a TCP socket cannot reach: nothing learned from this one. The
                // probe only adds a cause to the start's error, so nothing of its own may replace that error; a start that
                // is being stopped ends cancelled, as it does at its other steps.
            }
        }

        return null;
    }

    private static async Task<string> AnswerAsync(EndPoint endPoint, string? user, string? password, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        string[] command = password is null ? ["PING"] : user is null ? ["AUTH", password] : ["AUTH", user, password];
        await socket.SendAsync(Encode(command), SocketFlags.None, cancellationToken).ConfigureAwait(false);

        var buffer = new byte[MaxAnswerBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n"u8) is >= 0 and var end)
            {
                return Encoding.UTF8.GetString(buffer, 0, end);
            }
        }

        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>A command as RESP: an array of bulk strings.</summary>
    private static byte[] Encode(string[] command)
    {
        var text = new StringBuilder().Append('*').Append(command.Length).Append("\r\n");
        foreach (var part in command)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    // Redis 6 and later: NOAUTH without credentials, WRONGPASS for a wrong password or user; Redis 5 and earlier:
    // "ERR invalid password". Any other answer (+OK, +PONG, an AUTH where no password is set) is no refusal.
    private static bool IsRefusal(string answer) =>
        answer.StartsWith("-NOAUTH", StringComparison.Ordinal)
        || answer.StartsWith("-WRONGPASS", StringComparison.Ordinal)
        || (answer.StartsWith("-ERR", StringComparison.Ordinal) && answer.Contains("invalid password", StringComparison.OrdinalIgnoreCase));
}
