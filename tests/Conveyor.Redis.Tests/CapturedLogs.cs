using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Conveyor.Redis.Tests;

/// <summary>Every log line of a host or a store: its event id, level, message and exception.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Message, Exception? Error)> _records = new();

    public IReadOnlyCollection<(int EventId, LogLevel Level, string Message, Exception? Error)> Records => _records;

    public ILogger CreateLogger(string categoryName) => new Logger(_records);

    public ILogger<T> CreateLogger<T>() => new Logger<T>(_records);

    public void Dispose()
    {
    }

    private class Logger(ConcurrentQueue<(int EventId, LogLevel Level, string Message, Exception? Error)> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            records.Enqueue((eventId.Id, logLevel, formatter(state, exception), exception));
    }

    private sealed class Logger<T>(ConcurrentQueue<(int EventId, LogLevel Level, string Message, Exception? Error)> records) : Logger(records), ILogger<T>;
}
