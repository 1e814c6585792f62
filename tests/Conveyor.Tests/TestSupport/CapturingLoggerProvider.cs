using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.TestSupport;

/// <summary>Keeps every log entry with its level, event, exception and structured fields (its own and its scopes').</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    internal sealed record LogEntry(string Category, LogLevel Level, EventId EventId, Exception? Exception, string Message, IReadOnlyDictionary<string, object?> Fields, IReadOnlyDictionary<string, object?> OwnFields);

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
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
            var own = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    own[key] = value;
                    fields[key] = value;
                }
            }

            owner.Entries.Enqueue(new LogEntry(category, logLevel, eventId, exception, formatter(state, exception), fields, own));
        }
    }
}
