using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Conveyor.Server;

/// <summary>
/// The server's console formatter, <c>conveyor</c> (Logging:Console:FormatterName): the lines of the simple formatter,
/// whose Logging:Console:FormatterOptions apply, with the control characters of each message, scope and exception
/// escaped (<see cref="LogText"/>). Conveyor escapes the outside text it puts in its own lines; what it cannot reach
/// is the exception attached to a line, which the simple formatter writes as <c>exception.ToString()</c> with the
/// message as the handler threw it, and the lines of handlers and of ASP.NET Core that carry a payload's or a
/// request's text. The exception object itself still reaches every other logger provider as it was thrown.
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
        var message = LogText.Escape(logEntry.Formatter(logEntry.State, logEntry.Exception));
        // The exception's text follows the message after a line break, where the simple formatter puts it: indented
        // under the message, or joined to it on a single line.
        var text = logEntry.Exception is not { } exception ? message
            : string.IsNullOrEmpty(message) ? TextOf(exception)
            : message + Environment.NewLine + TextOf(exception);
        var escaped = new LogEntry<string>(logEntry.LogLevel, logEntry.Category, logEntry.EventId, text, null, static (t, _) => t);
        simple.Write(in escaped, scopeProvider is null ? null : new EscapedScopes(scopeProvider), textWriter);
    }

    /// <summary>
    /// <c>exception.ToString()</c> with each message of the exception and of its inner ones escaped whole, and the rest
    /// of the text escaped but for its line breaks, which separate the stack frames. A message the exception's own
    /// <c>ToString</c> writes otherwise keeps its line breaks too: the formatter indents what follows them, or joins it.
    /// </summary>
    private static string TextOf(Exception exception)
    {
        var text = exception.ToString();
        foreach (var message in Messages(exception))
        {
            if (LogText.Escape(message) is var escaped && !ReferenceEquals(escaped, message))
            {
                text = text.Replace(message, escaped, StringComparison.Ordinal);
            }
        }

        return LogText.EscapeKeepingLineBreaks(text);

        static IEnumerable<string> Messages(Exception exception)
        {
            yield return exception.Message;
            var inner = exception is AggregateException aggregate ? aggregate.InnerExceptions : exception.InnerException is { } one ? [one] : [];
            foreach (var message in inner.SelectMany(Messages))
            {
                yield return message;
            }
        }
    }

    /// <summary>The scopes as the formatter writes them (their text), escaped.</summary>
    private sealed class EscapedScopes(IExternalScopeProvider scopes) : IExternalScopeProvider
    {
        public void ForEachScope<TState>(Action<object?, TState> callback, TState state) =>
            scopes.ForEachScope((scope, s) => callback(LogText.Escape(scope?.ToString()), s), state);

        public IDisposable Push(object? state) => scopes.Push(state);
    }
}
