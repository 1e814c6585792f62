using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.Diagnostics;

/// <summary>Text from outside the server reaches a log line with its control characters escaped, and only those.</summary>
public sealed class LogTextTests
{
    [Theory]
    [InlineData("a\nb", @"a\nb")]
    [InlineData("a\r\nb", @"a\r\nb")]
    [InlineData("tab\there", @"tab\there")]
    [InlineData("\u001b[2J\u001b[31mred", @"\u001b[2J\u001b[31mred")]
    [InlineData("nul\0bell\a", @"nul\u0000bell\u0007")]
    [InlineData("del\u007f c1\u0085\u009b", @"del\u007f c1\u0085\u009b")]
    public void Escape_WritesEachControlCharacterAsAnEscape(string text, string expected) =>
        Assert.Equal(expected, LogText.Escape(text));

    [Theory]
    [InlineData("line\u2028separator", @"line\u2028separator")]
    [InlineData("paragraph\u2029separator", @"paragraph\u2029separator")]
    [InlineData("\u202a\u202b\u202c\u202d\u202e", @"\u202a\u202b\u202c\u202d\u202e")]
    [InlineData("\u2066\u2067\u2068\u2069", @"\u2066\u2067\u2068\u2069")]
    [InlineData("marks\u200e\u200f\u061c", @"marks\u200e\u200f\u061c")]
    [InlineData("if (admin\u202e \u2066// check\u2069\u2066) {", @"if (admin\u202e \u2066// check\u2069\u2066) {")]
    public void Escape_WritesLineSeparatorsAndBidirectionalControlsAsEscapes(string text, string expected)
    {
        Assert.Equal(expected, LogText.Escape(text));
        Assert.Equal(expected, LogText.EscapeKeepingLineBreaks(text));
    }

    [Fact]
    public void Escape_TextWithoutControlCharacters_IsTheSameInstance()
    {
        // Right-to-left letters and the characters next to the escaped ones are text, not controls.
        const string Text = @"C:\data\notes — é ✓ \n as typed שלום مرحبا" + "\u061b\u061d\u200d\u2010\u2027\u202f\u2030\u2065\u206a";

        Assert.Same(Text, LogText.Escape(Text));
        Assert.Null(LogText.Escape(null));
    }

    [Fact]
    public void EscapeKeepingLineBreaks_KeepsTheLinesOfAStackTrace_AndEscapesTheRest()
    {
        var text = $"System.Exception: bad\u001b[31m\r{Environment.NewLine}   at A.B(){Environment.NewLine}\tnext";

        Assert.Equal($@"System.Exception: bad\u001b[31m\r{Environment.NewLine}   at A.B(){Environment.NewLine}\tnext", LogText.EscapeKeepingLineBreaks(text));
    }

    [Fact]
    public void EscapeKeepingLineBreaks_TextWhoseOnlyControlsAreLineBreaks_IsTheSameInstance()
    {
        // A stack trace: every frame ends in a line break, and nothing else in it is escaped.
        var text = $"System.Exception: bad{Environment.NewLine}   at A.B(){Environment.NewLine}   at C.D(){Environment.NewLine}";

        Assert.Same(text, LogText.EscapeKeepingLineBreaks(text));
    }

    [Fact]
    public void EscapeKeepingLineBreaks_EscapesWhatFollowsTheLastLineBreak_AndWhatStandsBetweenTwo()
    {
        var newLine = Environment.NewLine;
        var text = $"{newLine}a\u001b{newLine}{newLine}\t\r{newLine}\u202e";

        Assert.Equal($@"{newLine}a\u001b{newLine}{newLine}\t\r{newLine}\u202e", LogText.EscapeKeepingLineBreaks(text));
    }

    [Fact]
    public void EveryLineThatCarriesTextFromOutside_EscapesIt()
    {
        // A handler's message or snooze reason, an idempotency key from a payload, a store client's error, a schedule
        // stored by hand.
        const string Forged = "x\nfake line \u001b[31m\r";
        using var provider = new CapturingLoggerProvider();
        var logger = provider.CreateLogger("test");
        var now = DateTimeOffset.UnixEpoch;

        Log.AttemptRetried(logger, null, "job_1", "a:b", "q", 1, 1, "retry", now, Forged, null);
        Log.AttemptFailed(logger, null, "job_1", "a:b", "q", 1, 1, "failed", Forged, null);
        Log.AttemptSnoozed(logger, LogLevel.Information, "job_1", "a:b", "q", 1, 1, "snoozed", now, Forged, null);
        Log.ScheduleBroken(logger, Forged, Forged, Forged);
        Log.IdempotentSkipped(logger, "job_1", "a:b", "q", Forged, "job_0", now);
        Log.IdempotentBusy(logger, "job_1", "a:b", "q", Forged, "job_0", now);
        Log.IdempotencyFailOpen(logger, "job_1", "a:b", "q", Forged);
        Log.IdempotencyFailClosed(logger, "job_1", "a:b", "q", Forged, now);
        Log.IdempotencyCompleteFailed(logger, "job_1", "a:b", "q", Forged, Forged);
        Log.IdempotencyTakenOver(logger, "job_1", "a:b", "q", Forged);
        Log.IdempotencyReleaseFailed(logger, "job_1", "a:b", "q", Forged, Forged);
        Log.IdempotencyExtendFailed(logger, 1, Forged);
        Log.SignalWaitFailed(logger, "job_1", "a:b", "q", "approved", Forged);
        Log.ScheduleFired(logger, "t", Forged, now, "job_1", "enqueued");
        Log.ScheduleMisfired(logger, "t", Forged, 2, now, now, "skip");
        Log.ScheduleOverlapSkipped(logger, "t", Forged, now, "job_1");

        Assert.Equal(16, provider.Entries.Count);
        Assert.All(provider.Entries, e =>
        {
            Assert.DoesNotContain(e.Message, char.IsControl);
            Assert.Contains(@"x\nfake line \u001b[31m\r", e.Message, StringComparison.Ordinal);
            Assert.All(e.OwnFields.Values.OfType<string>(), v => Assert.DoesNotContain(v, char.IsControl));
        });
    }
}
