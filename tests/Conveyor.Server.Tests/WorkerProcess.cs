using System.Diagnostics;
using System.Text;

namespace Conveyor.Server.Tests;

/// <summary>A real Conveyor.Server process on a given SQLite file, for crash and shutdown tests.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errors = new();

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static WorkerProcess Start(string workingDirectory, IDictionary<string, string> settings)
    {
        var serverDll = Path.Combine(AppContext.BaseDirectory, "Conveyor.Server.dll");
        var info = new ProcessStartInfo("dotnet", [serverDll])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Conveyor__Samples__Produce"] = "false";
        // A port the system picks, so that processes of parallel tests never collide; ListeningAddressAsync reads it.
        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        // The test's own directory, never the user's local application data.
        info.Environment["Conveyor__DataDirectory"] = workingDirectory;
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start Conveyor.Server");
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data, error: true);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>The address the server printed at start-up (its "listening on" line).</summary>
    public async Task<Uri> ListeningAddressAsync(TimeSpan timeout) =>
        new((await OutputMatchAsync(@"listening on (http://[0-9.:\[\]a-z]+)", timeout, "say where it listens")).Groups[1].Value);

    /// <summary>The first match of <paramref name="pattern"/> in the output, once the server has printed it; fails if it exits or the time runs out first.</summary>
    public async Task<System.Text.RegularExpressions.Match> OutputMatchAsync(string pattern, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var match = System.Text.RegularExpressions.Regex.Match(Output, pattern);
            if (match.Success)
            {
                return match;
            }

            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The server did not {what}. Output:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: the process gets no chance to clean up, as in a crash or an OOM kill.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: what an orchestrator sends to stop a container.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill!.WaitForExit();
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to stderr alone.</summary>
    public string Errors
    {
        get
        {
            lock (_output)
            {
                return _errors.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Append(string? line, bool error = false)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            if (error)
            {
                _errors.AppendLine(line);
            }
        }
    }
}
