using System.Collections.Concurrent;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.Middleware;

public sealed class LoggingMiddlewareTests
{
    [Fact]
    public async Task HandlerLogLines_CarryJobIdTypeQueueAndAttempt_ThroughTheLogScope()
    {
        var provider = new ScopeCapturingLoggerProvider();
        await using var harness = await ServerHarness.StartAsync(configureServices: s => s.AddLogging(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Debug)));

        var result = await harness.Client.EnqueueLowAsync(new EchoJob("logged"));
        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);

        await Eventually.HoldsAsync(() => provider.Entries.Any(e => e.Message.Contains(" ms: success", StringComparison.Ordinal) && e.Fields.TryGetValue("job_id", out var id) && (string?)id == result.JobId));
        var entry = provider.Entries.First(e => e.Message.Contains(" ms: success", StringComparison.Ordinal) && (string?)e.Fields.GetValueOrDefault("job_id") == result.JobId);
        Assert.Equal("test:echo", entry.Fields["job_type"]);
        Assert.Equal("low", entry.Fields["queue"]);
        Assert.Equal(1, entry.Fields["attempt"]);
    }

    private sealed class ScopeCapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<(string Message, Dictionary<string, object?> Fields)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapturingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var fields = new Dictionary<string, object?>();
                owner._scopes.ForEachScope((scope, f) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, value) in pairs)
                        {
                            f[key] = value;
                        }
                    }
                }, fields);
                if (state is IEnumerable<KeyValuePair<string, object?>> own)
                {
                    foreach (var (key, value) in own)
                    {
                        fields[key] = value;
                    }
                }

                owner.Entries.Enqueue((formatter(state, exception), fields));
            }
        }
    }
}
