using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A redis-server a test starts for itself on a loopback port, in a directory under
/// <see cref="RedisTestEnvironment.WorkDirectory"/> with a pid file there, so that
/// <c>eng/services/redis.sh stop</c> stops it even if the test could not.
/// </summary>
internal sealed class RedisServerProcess : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigCont = 18;
    private const int SigStop = 19;

    private readonly string[] _extraArguments;
    private Process? _process;

    private RedisServerProcess(int port, string directory, string[] extraArguments)
    {
        Port = port;
        Directory = directory;
        _extraArguments = extraArguments;
    }

    public int Port { get; }

    public string Directory { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public int ProcessId => _process?.Id ?? 0;

    /// <summary>False once the server was killed or shut down (until it starts again).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// A loopback port that nothing listens on now (for a cluster node, its bus port, 10,000 above it, too). Chosen by the
    /// system, so test runs that share a machine (a CI run beside a developer's) do not start servers on each other's ports.
    /// </summary>
    public static int FreePort(bool withClusterBus = false)
    {
        for (var attempt = 0; ; attempt++)
        {
            var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            try
            {
                if (!withClusterBus || (port + 10000 <= 65535 && IsFree(port + 10000)))
                {
                    return port;
                }
            }
            finally
            {
                listener.Stop();
            }

            if (attempt >= 100)
            {
                throw new InvalidOperationException("No free loopback port with a free cluster bus port was found.");
            }
        }

        static bool IsFree(int port)
        {
            var probe = new TcpListener(System.Net.IPAddress.Loopback, port);
            try
            {
                probe.Start();
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
            finally
            {
                probe.Stop();
            }
        }
    }

    /// <summary>Starts redis-server on a free loopback port with a fresh directory and waits until it answers.</summary>
    public static Task<RedisServerProcess> StartAsync(params string[] extraArguments) => StartAsync(FreePort(), extraArguments);

    /// <summary>Starts redis-server on <paramref name="port"/> with a fresh directory and waits until it answers.</summary>
    public static async Task<RedisServerProcess> StartAsync(int port, params string[] extraArguments)
    {
        var directory = Path.Combine(RedisTestEnvironment.WorkDirectory, $"node-{port}");
        if (System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }

        System.IO.Directory.CreateDirectory(directory);
        var server = new RedisServerProcess(port, directory, extraArguments);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the server again in the same directory (after <see cref="KillAsync"/> or <see cref="ShutdownAsync"/>).</summary>
    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo(RedisTestEnvironment.RedisServer)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--dir", Directory, "--pidfile", Path.Combine(Directory, "redis.pid"),
            "--logfile", Path.Combine(Directory, "redis.log"), "--save", "",
        }.Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAsync(AnswersAsync, TimeSpan.FromSeconds(20), $"redis-server on port {Port} to answer");
    }

    /// <summary>Runs redis-cli against this server and returns what it printed.</summary>
    public Task<string> CliAsync(params string[] arguments) => RunAsync(RedisTestEnvironment.RedisCli, ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments]);

    /// <summary>Kills the server at once (SIGKILL): no shutdown save, as a crash or power loss of the process.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            _ = kill(process.Id, SigKill);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Stops the server the way an operator would (SHUTDOWN, which flushes the AOF).</summary>
    public async Task ShutdownAsync()
    {
        if (_process is { HasExited: false } process)
        {
            await CliAsync("SHUTDOWN", "NOSAVE");
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open but nothing answers, as a network partition.</summary>
    public void Pause()
    {
        if (_process is { HasExited: false } process)
        {
            _ = kill(process.Id, SigStop);
        }
    }

    public void Resume()
    {
        if (_process is { HasExited: false } process)
        {
            _ = kill(process.Id, SigCont);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Resume();
        await KillAsync();
        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for eng/services/redis.sh stop.
        }
    }

    public static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (await output) + (await error);
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Waited {timeout} for {what}.");
            }

            await Task.Delay(20);
        }
    }

    private async Task<bool> AnswersAsync()
    {
        if (_process is { HasExited: true })
        {
            throw new InvalidOperationException($"redis-server on port {Port} exited: {await File.ReadAllTextAsync(Path.Combine(Directory, "redis.log"))}");
        }

        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            return (await CliAsync("PING")).Trim() == "PONG";
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SA1300, IDE1006 // the libc name
    private static extern int kill(int pid, int signal);
#pragma warning restore SA1300, IDE1006
}
