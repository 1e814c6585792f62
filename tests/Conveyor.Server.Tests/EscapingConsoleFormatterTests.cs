using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Conveyor.Server.Tests;

/// <summary>
/// The server's console formatter writes the simple formatter's lines with the outside text in them escaped: each
/// message, scope and exception message, and nothing else, so a stack trace keeps its lines and text with nothing to
/// escape comes out byte for byte as the simple formatter writes it.
/// </summary>
public sealed class EscapingConsoleFormatterTests
{
    /// <summary>A line break, what a forged entry would say, a carriage return, colour sequences and a bidi override.</summary>
    private const string Forged = "\nfake line: fail: Conveyor.Server.Processor[5]\r\u001b[31mred\u001b[0m\u202e";

    private const string ForgedEscaped = @"\nfake line: fail: Conveyor.Server.Processor[5]\r\u001b[31mred\u001b[0m\u202e";

    [Fact]
    public void OnSeveralLines_TheExceptionsFramesKeepTheirLines_AndNothingElseStartsOne()
    {
        using var provider = Services(singleLine: false);
        var scopes = new LoggerExternalScopeProvider();
        using var scope = scopes.Push("tenant" + Forged);
        var thrown = Thrown(() => throw new InvalidOperationException("refused" + Forged, new FormatException("inner" + Forged)));

        var text = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "message" + Forged, thrown, scopes);

        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\r', text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("fail: Conveyor.Server.Processor[5]", lines[0]);
        Assert.All(lines.Skip(1), static l => Assert.StartsWith("      ", l, StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.Contains("=> tenant" + ForgedEscaped, StringComparison.Ordinal));
        Assert.Contains(lines, static l => l == "      message" + ForgedEscaped);
        Assert.Contains(lines, static l => l.Contains("InvalidOperationException: refused" + ForgedEscaped, StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.Contains("FormatException: inner" + ForgedEscaped, StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.StartsWith("         at ", StringComparison.Ordinal) && l.Contains($".{nameof(EscapingConsoleFormatterTests)}.", StringComparison.Ordinal));
    }

    [Fact]
    public void AMessageThatIsAlsoPartOfTheStackTrace_IsEscaped_AndTheStackTraceKeepsItsLines()
    {
        // The text between two frames: a message equal to it once made every frame break escaped with it.
        var betweenFrames = Environment.NewLine + "   at ";
        var thrown = Thrown(() => ThrowFromAFrameOfItsOwn(betweenFrames));
        Assert.Contains(betweenFrames, thrown.StackTrace, StringComparison.Ordinal);
        using var provider = Services(singleLine: false);

        var lines = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "failed", thrown).Split(Environment.NewLine);

        Assert.Contains("      System.InvalidOperationException: " + LogText.Escape(betweenFrames), lines);
        Assert.All(thrown.StackTrace!.Split(Environment.NewLine), frame => Assert.Contains("      " + frame, lines));
    }

    [Fact]
    public void InnerExceptions_HaveTheirMessagesEscaped_AndTheirStackTracesKeepTheirLines()
    {
        var betweenFrames = Environment.NewLine + "   at ";
        var first = Thrown(() => ThrowFromAFrameOfItsOwn("first" + Forged + betweenFrames));
        var second = Thrown(() => ThrowFromAFrameOfItsOwn(betweenFrames));
        var wrapped = Thrown(() => throw new InvalidOperationException("wrapped" + betweenFrames, first));
        var aggregate = Thrown(() => throw new AggregateException("several" + Forged, wrapped, second));
        using var provider = Services(singleLine: false);

        var text = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "failed", aggregate);

        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\u202e', text);
        var lines = text.Split(Environment.NewLine);
        Assert.Contains(lines, static l => l.StartsWith("      System.AggregateException: several" + ForgedEscaped, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("---> System.InvalidOperationException: wrapped" + LogText.Escape(betweenFrames), StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("---> System.InvalidOperationException: first" + ForgedEscaped + LogText.Escape(betweenFrames), StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("---> (Inner Exception #1) System.InvalidOperationException: " + LogText.Escape(betweenFrames), StringComparison.Ordinal));
        Assert.All(new[] { aggregate, wrapped, first, second }, e =>
            Assert.All(e.StackTrace!.Split(Environment.NewLine), frame => Assert.Contains("      " + frame, lines)));
    }

    [Fact]
    public void AnExceptionThatWritesItsOwnText_HasTheMessageItStartsWithEscaped()
    {
        // FileNotFoundException adds its file name to the text: the layout is its own, only its start is known.
        var thrown = Thrown(() => throw new FileNotFoundException("missing" + Forged, "notes" + Forged));
        using var provider = Services(singleLine: true);

        var text = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "failed", thrown);

        Assert.Contains("System.IO.FileNotFoundException: missing" + ForgedEscaped + " ", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\u202e', text);
        Assert.Single(text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void OnSeveralLines_AnExceptionThatWritesItsOwnText_StartsNoLineWithItsInnerMessageOrFileName()
    {
        // FileNotFoundException writes its text itself (its file name on a line of its own), its inner exception's
        // among it; the library exception puts a prefix before its message.
        const string Fake = "\nfail: Fake[1]";
        var thrown = Thrown(() => throw new FileNotFoundException("missing" + Fake, "notes" + Fake, new FormatException("inner" + Fake)));
        var prefixed = Thrown(() => throw new PrefixedException("outer" + Fake, new AggregateException(new FormatException("several" + Fake))));
        using var provider = Services(singleLine: false);

        foreach (var exception in new[] { thrown, prefixed })
        {
            var text = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "failed", exception);

            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.DoesNotContain(lines.Skip(1), static l => l.TrimStart().StartsWith("fail: Fake[1]", StringComparison.Ordinal));
            Assert.All(lines.Skip(1), static l => Assert.StartsWith("      ", l, StringComparison.Ordinal));
            Assert.All(exception.StackTrace!.Split(Environment.NewLine), frame => Assert.Contains("      " + frame, lines));
        }

        var fileText = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "failed", thrown);
        Assert.Contains(@"System.IO.FileNotFoundException: missing\nfail: Fake[1]", fileText, StringComparison.Ordinal);
        Assert.Contains(@"'notes\nfail: Fake[1]'", fileText, StringComparison.Ordinal);
        Assert.Contains(@"---> System.FormatException: inner\nfail: Fake[1]", fileText, StringComparison.Ordinal);
        var prefixedText = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "failed", prefixed);
        Assert.Contains(@"[library] Conveyor.Server.Tests.EscapingConsoleFormatterTests+PrefixedException: outer\nfail: Fake[1]", prefixedText, StringComparison.Ordinal);
        Assert.Contains(@"System.FormatException: several\nfail: Fake[1]", prefixedText, StringComparison.Ordinal);
    }

    [Fact]
    public void ARuntimeMessageWithALineBreakOfItsOwn_ComesOutWithItEscaped()
    {
        // ObjectDisposedException puts the object's name on a second line of its message.
        var thrown = Thrown(() => throw new ObjectDisposedException("notes"));
        using var provider = Services(singleLine: false);

        var text = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "failed", thrown);

        Assert.Contains(@"System.ObjectDisposedException: Cannot access a disposed object.\nObject name: 'notes'.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void EachExceptionsMessageAndStackTrace_AreReadOnce()
    {
        // What the text is built from is read once per exception, however deep the inner exceptions go.
        var innermost = new CountingException("innermost", null);
        var middle = new CountingException("middle", innermost);
        var outer = new CountingException("outer", middle);
        using var provider = Services(singleLine: false);

        _ = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), "failed", outer);

        Assert.All(new[] { outer, middle, innermost }, static e => Assert.Equal((1, 1), (e.MessageReads, e.StackTraceReads)));
    }

    /// <summary>Every layout, each kind of exception text; nothing to escape in any of them.</summary>
    public static TheoryData<bool, bool, string?, bool, string> Layouts()
    {
        var data = new TheoryData<bool, bool, string?, bool, string>();
        foreach (var singleLine in new[] { false, true })
        {
            foreach (var includeScopes in new[] { false, true })
            {
                // A timestamp format of literals only, so that both formatters write the same time.
                foreach (var timestampFormat in new[] { null, "'at' " })
                {
                    foreach (var colors in new[] { false, true })
                    {
                        foreach (var exception in new[]
                        {
                            "none", "thrown", "inner", "aggregate", "unthrown", "own ToString", "alone", "rethrown", "awaited",
                            "invoked", "nested aggregate", "request", "prefixed", "no text", "no text, alone",
                        })
                        {
                            data.Add(singleLine, includeScopes, timestampFormat, colors, exception);
                        }
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void TextWithNothingToEscape_IsWrittenByteForByteAsTheSimpleFormatterWritesIt(bool singleLine, bool includeScopes, string? timestampFormat, bool colors, string exception)
    {
        using var provider = Services(singleLine, includeScopes, timestampFormat, colors);
        var scopes = new LoggerExternalScopeProvider();
        using var scope = scopes.Push("tenant acme");
        var message = exception.EndsWith("alone", StringComparison.Ordinal) ? "" : "Job job_1 (note:notify) failed: at   the door";
        Exception? thrown = exception switch
        {
            "thrown" or "alone" => Thrown(() => ThrowFromAFrameOfItsOwn("   at the door")),
            "inner" => Thrown(() => throw new InvalidOperationException("outer", Thrown(() => ThrowFromAFrameOfItsOwn("inner")))),
            "aggregate" => new AggregateException(Thrown(() => ThrowFromAFrameOfItsOwn("one")), new FormatException("two")),
            "unthrown" => new InvalidOperationException("never thrown"),
            "own ToString" => Thrown(() => throw new FileNotFoundException("missing", "notes.txt", new FormatException("inner"))),
            // A remote stack trace and the line that ends it.
            "rethrown" => Thrown(() => ExceptionDispatchInfo.Throw(Thrown(() => ThrowFromAFrameOfItsOwn("first throw")))),
            "awaited" => Thrown(() => ThrowAfterAnAwait().GetAwaiter().GetResult()),
            "invoked" => Thrown(() => typeof(EscapingConsoleFormatterTests).GetMethod(nameof(ThrowFromAFrameOfItsOwn), BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, ["invoked"])),
            "nested aggregate" => Thrown(() => throw new AggregateException(
                new AggregateException(Thrown(() => ThrowFromAFrameOfItsOwn("one")), new FormatException("two")),
                Thrown(() => ThrowFromAFrameOfItsOwn("three")))),
            // SocketException writes its own text (its error code), under one laid out by the runtime.
            "request" => Thrown(() => throw new HttpRequestException("refused", Thrown(() => throw new SocketException((int)SocketError.ConnectionRefused)))),
            "prefixed" => Thrown(() => throw new PrefixedException("outer", new AggregateException(new FormatException("inner")))),
            "no text" or "no text, alone" => Thrown(() => throw new TextlessException()),
            _ => null,
        };

        var expected = Write(Formatter(provider, ConsoleFormatterNames.Simple), message, thrown, scopes);
        var written = Write(Formatter(provider, EscapingConsoleFormatter.FormatterName), message, thrown, scopes);

        Assert.Equal(expected, written);
    }

    [Fact]
    public void AReplayedBufferedRecord_KeepsItsTimeAndExceptionText_Escaped()
    {
        using var provider = Services(singleLine: true, timestampFormat: "yyyy-MM-dd HH:mm:ss ");
        var at = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);
        // The log buffer keeps an exception's message, or its properties as JSON, without the stack trace.
        var record = new Record(at, "message" + Forged, "refused" + Forged);
        // What the console logger, a buffered one, hands its formatter for each record of IBufferedLogger.LogRecords.
        // (Its own services: without a formatter name, the console logger copies its options onto the simple formatter's.)
        using (var console = Services(singleLine: false))
        {
            Assert.IsAssignableFrom<IBufferedLogger>(console.GetServices<ILoggerProvider>().OfType<ConsoleLoggerProvider>().Single().CreateLogger("x"));
        }

        var entry = new LogEntry<BufferedLogRecord>(record.LogLevel, "Conveyor.Server.Processor", record.EventId, record, null, static (r, _) => r.FormattedMessage ?? string.Empty);
        using var writer = new StringWriter();

        Formatter(provider, EscapingConsoleFormatter.FormatterName).Write(in entry, null, writer);

        Assert.Equal(
            $"2026-03-01 09:30:00 fail: Conveyor.Server.Processor[5] message{ForgedEscaped} refused{ForgedEscaped}{Environment.NewLine}",
            writer.ToString());
    }

    [Fact]
    public void AReplayedBufferedRecord_WithNothingToEscape_IsWrittenAsTheSimpleFormatterWritesIt()
    {
        using var provider = Services(singleLine: false, timestampFormat: "HH:mm:ss.fff ");
        var record = new Record(new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero), "message", "refused");
        var entry = new LogEntry<BufferedLogRecord>(record.LogLevel, "Conveyor.Server.Processor", record.EventId, record, null, static (r, _) => r.FormattedMessage ?? string.Empty);
        using var expected = new StringWriter();
        using var written = new StringWriter();

        Formatter(provider, ConsoleFormatterNames.Simple).Write(in entry, null, expected);
        Formatter(provider, EscapingConsoleFormatter.FormatterName).Write(in entry, null, written);

        Assert.Equal(expected.ToString(), written.ToString());
    }

    private static ServiceProvider Services(bool singleLine, bool includeScopes = true, string? timestampFormat = null, bool colors = false)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.AddConsole();
            EscapingConsoleFormatter.Register(logging);
        });
        services.Configure<SimpleConsoleFormatterOptions>(o =>
        {
            o.SingleLine = singleLine;
            o.IncludeScopes = includeScopes;
            o.TimestampFormat = timestampFormat;
            o.UseUtcTimestamp = true;
            o.ColorBehavior = colors ? LoggerColorBehavior.Enabled : LoggerColorBehavior.Disabled;
        });
        return services.BuildServiceProvider();
    }

    private static ConsoleFormatter Formatter(ServiceProvider provider, string name) =>
        provider.GetServices<ConsoleFormatter>().Single(f => f.Name == name);

    private static string Write(ConsoleFormatter formatter, string message, Exception? exception, IExternalScopeProvider? scopes = null)
    {
        using var writer = new StringWriter();
        formatter.Write(new LogEntry<string>(LogLevel.Error, "Conveyor.Server.Processor", new EventId(5), message, exception, static (s, _) => s), scopes, writer);
        return writer.ToString();
    }

    private static Exception Thrown(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            return e;
        }

        throw new InvalidOperationException("The action threw nothing.");
    }

    private static async Task ThrowAfterAnAwait()
    {
        await Task.Yield();
        ThrowFromAFrameOfItsOwn("after an await");
    }

    /// <summary>Throws one frame below its caller, so that the stack trace has a line break between two frames.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFromAFrameOfItsOwn(string message) => throw new InvalidOperationException(message);

    /// <summary>A library's exception that writes its own text: a prefix, then the runtime's.</summary>
    private sealed class PrefixedException(string message, Exception inner) : Exception(message, inner)
    {
        public override string ToString() => "[library] " + base.ToString();
    }

    /// <summary>An exception whose text is null; the simple formatter writes none.</summary>
    private sealed class TextlessException : Exception
    {
        public override string ToString() => null!;
    }

    /// <summary>Counts the reads of what an exception's text is made of.</summary>
    private sealed class CountingException(string message, Exception? inner) : Exception(message, inner)
    {
        public int MessageReads { get; private set; }

        public int StackTraceReads { get; private set; }

        public override string Message
        {
            get
            {
                MessageReads++;
                return base.Message;
            }
        }

        public override string? StackTrace
        {
            get
            {
                StackTraceReads++;
                return base.StackTrace;
            }
        }
    }

    private sealed class Record(DateTimeOffset timestamp, string message, string exception) : BufferedLogRecord
    {
        public override DateTimeOffset Timestamp => timestamp;

        public override LogLevel LogLevel => LogLevel.Error;

        public override EventId EventId => new(5);

        public override string? FormattedMessage => message;

        public override string? Exception => exception;
    }
}
