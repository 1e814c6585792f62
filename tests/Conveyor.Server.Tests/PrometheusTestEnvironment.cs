using System.Diagnostics;

namespace Conveyor.Server.Tests;

/// <summary>
/// The Prometheus and promtool the observability tests use, started by <c>eng/services/prometheus.sh start</c>:
/// <c>CONVEYOR_TEST_PROMETHEUS</c> (its HTTP address), <c>CONVEYOR_TEST_PROMETHEUS_TARGETS</c> (the file_sd directory
/// a test writes its server's address to) and <c>CONVEYOR_TEST_PROMTOOL</c>.
/// </summary>
internal static class PrometheusTestEnvironment
{
    private static readonly Lazy<string?> UnavailableReason = new(FindUnavailableReason);

    public static Uri? Address => Environment.GetEnvironmentVariable("CONVEYOR_TEST_PROMETHEUS") is { Length: > 0 } url ? new Uri(url) : null;

    public static string? TargetsDirectory => Environment.GetEnvironmentVariable("CONVEYOR_TEST_PROMETHEUS_TARGETS");

    public static string? Promtool => Environment.GetEnvironmentVariable("CONVEYOR_TEST_PROMTOOL");

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the tests cannot use Prometheus and promtool, or null when they can.</summary>
    public static string? Unavailable => UnavailableReason.Value;

    /// <summary>The repository's root (where Conveyor.slnx is), for the files under deploy/.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Conveyor.slnx")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("Conveyor.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Runs promtool with <paramref name="arguments"/>, <paramref name="input"/> on its standard input; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> PromtoolAsync(string workingDirectory, string? input, params string[] arguments)
    {
        if (Unavailable is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        var info = new ProcessStartInfo(Promtool!, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start promtool");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string? FindUnavailableReason()
    {
        const string Start = "run `eval \"$(eng/services/prometheus.sh start)\"` first.";
        if (Address is null || string.IsNullOrEmpty(TargetsDirectory) || string.IsNullOrEmpty(Promtool))
        {
            return "CONVEYOR_TEST_PROMETHEUS, CONVEYOR_TEST_PROMETHEUS_TARGETS or CONVEYOR_TEST_PROMTOOL is not set: " + Start;
        }

        if (!File.Exists(Promtool))
        {
            return $"CONVEYOR_TEST_PROMTOOL={Promtool} does not exist: " + Start;
        }

        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            using var response = http.GetAsync(new Uri(Address, "/-/ready")).GetAwaiter().GetResult();
            return response.IsSuccessStatusCode ? null : $"Prometheus at {Address} is not ready ({(int)response.StatusCode}): " + Start;
        }
        catch (HttpRequestException e)
        {
            return $"Prometheus at CONVEYOR_TEST_PROMETHEUS={Address} does not answer ({e.Message}): " + Start;
        }
        catch (TaskCanceledException)
        {
            return $"Prometheus at CONVEYOR_TEST_PROMETHEUS={Address} does not answer within 5 s: " + Start;
        }
    }
}

/// <summary>
/// A test that needs the test Prometheus and promtool. Outside CI it is skipped, saying why, when they are not there;
/// in CI (CI=true) it is never skipped, so a missing Prometheus fails the run instead of passing it silently.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute()
    {
        if (!PrometheusTestEnvironment.InCi && PrometheusTestEnvironment.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
