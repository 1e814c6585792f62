using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Conveyor.Server;

/// <summary>
/// The server's console formatter, <c>conveyor</c> (Logging:Console:FormatterName): the lines of the simple formatter,
/// whose Logging:Console:FormatterOptions apply, with what <see cref="LogText"/> escapes (control characters, line
/// separators, bidirectional controls) escaped in each message, scope and exception message (<see cref="ExceptionText"/>),
/// records replayed from a log buffer included. Conveyor escapes the outside text it puts in its own lines; what it cannot reach is the
/// exception attached to a line, which the simple formatter writes as <c>exception.ToString()</c> with the message as
/// the handler threw it, and the lines of handlers and of ASP.NET Core that carry a payload's or a request's text. The
/// exception object itself still reaches every other logger provider as it was thrown.
/// </summary>
internal sealed class EscapingConsoleFormatter(IServiceProvider services) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "conveyor";

    private ConsoleFormatter? _simple;

    public static void Register(ILoggingBuilder logging) =>
        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, EscapingConsoleFormatter>());

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        // One of the formatters the console logger was built with, so looked up at the first line, when they all exist.
        var simple = _simple ??= services.GetServices<ConsoleFormatter>().First(static f => f.Name == ConsoleFormatterNames.Simple);
        if (logEntry.State is BufferedLogRecord record)
        {
            // A record replayed from a log buffer (IBufferedLogger.LogRecords): the simple formatter reads its time,
            // message and exception text from the record itself, so it gets the record, escaped.
            var replayed = new LogEntry<BufferedLogRecord>(logEntry.LogLevel, logEntry.Category, logEntry.EventId, new EscapedRecord(record), null, static (r, _) => r.FormattedMessage ?? string.Empty);
            simple.Write(in replayed, scopeProvider is null ? null : new EscapedScopes(scopeProvider), textWriter);
            return;
        }

        var message = LogText.Escape(logEntry.Formatter(logEntry.State, logEntry.Exception));
        var text = logEntry.Exception is { } exception ? WithTextOf(exception, message) : message;
        var escaped = new LogEntry<string>(logEntry.LogLevel, logEntry.Category, logEntry.EventId, text, null, static (t, _) => t);
        simple.Write(in escaped, scopeProvider is null ? null : new EscapedScopes(scopeProvider), textWriter);
    }

    /// <summary>
    /// The message followed by the exception's escaped text (<see cref="ExceptionText"/>) after a line break, where the
    /// simple formatter puts it: indented under the message, or joined to it on a single line. An exception without
    /// text adds nothing, as the simple formatter writes none.
    /// </summary>
    private static string WithTextOf(Exception exception, string? message)
    {
        var text = new StringBuilder(message);
        if (!string.IsNullOrEmpty(message))
        {
            text.Append(Environment.NewLine);
        }

        var start = text.Length;
        ExceptionText.Append(text, exception);
        return text.Length > start ? text.ToString() : message ?? string.Empty;
    }

    /// <summary>
    /// A buffered record with its message and its exception's text escaped, both whole: the log buffer keeps the
    /// exception as a string, its message or its properties as JSON, without the stack trace, so no line break in it
    /// separates frames.
    /// </summary>
    private sealed class EscapedRecord(BufferedLogRecord record) : BufferedLogRecord
    {
        public override DateTimeOffset Timestamp => record.Timestamp;

        public override LogLevel LogLevel => record.LogLevel;

        public override EventId EventId => record.EventId;

        public override string? Exception => LogText.Escape(record.Exception);

        public override ActivitySpanId? ActivitySpanId => record.ActivitySpanId;

        public override ActivityTraceId? ActivityTraceId => record.ActivityTraceId;

        public override int? ManagedThreadId => record.ManagedThreadId;

        public override string? FormattedMessage => LogText.Escape(record.FormattedMessage);

        public override string? MessageTemplate => record.MessageTemplate;

        public override IReadOnlyList<KeyValuePair<string, object?>> Attributes => record.Attributes;
    }

    /// <summary>The scopes as the formatter writes them (their text), escaped.</summary>
    private sealed class EscapedScopes(IExternalScopeProvider scopes) : IExternalScopeProvider
    {
        public void ForEachScope<TState>(Action<object?, TState> callback, TState state) =>
            scopes.ForEachScope((scope, s) => callback(LogText.Escape(scope?.ToString()), s), state);

        public IDisposable Push(object? state) => scopes.Push(state);
    }
}
