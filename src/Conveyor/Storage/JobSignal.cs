using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using Conveyor.Serialization;

namespace Conveyor.Storage;

/// <summary>
/// The rules of signal names and payloads, and how a signal and a wait are kept on a job: as durable steps whose names
/// begin with '$', which <see cref="JobContext"/>'s RunStepAsync refuses for a handler's own steps.
/// </summary>
public static class JobSignal
{
    /// <summary>The longest signal name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>The largest payload (as <see cref="JobStep.MaxResultBytes"/>).</summary>
    public const int MaxPayloadBytes = JobStep.MaxResultBytes;

    /// <summary>The first character of the step names Conveyor keeps for itself.</summary>
    public const char ReservedStepPrefix = '$';

    private static readonly SearchValues<char> NameCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:");

    /// <summary>True when <paramref name="name"/> is a valid signal name: 1 to 100 letters, digits, '-', '_', '.' or ':'.</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength && !name.AsSpan().ContainsAnyExcept(NameCharacters);

    /// <summary>Throws an <see cref="ArgumentException"/> naming what is wrong with the signal's name or payload size.</summary>
    public static void Validate(string name, int payloadLength)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsValidName(name))
        {
            throw new ArgumentException(
                $"A signal name has 1 to {MaxNameLength} letters, digits, '-', '_', '.' or ':'; '{Shorten(name)}' is not one.", nameof(name));
        }

        if (payloadLength is < 1 or > MaxPayloadBytes)
        {
            throw new ArgumentException(
                $"Signal '{name}' has a payload of {payloadLength} bytes; a payload has 1 to {MaxPayloadBytes} (JSON: send null for none).", nameof(payloadLength));
        }
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> unless <paramref name="names"/>, the signals one wait is for
    /// (<see cref="IJobSignalStore.AwaitSignalAsync"/>), holds at least one name and only valid ones.
    /// </summary>
    public static void ValidateNames(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
        {
            throw new ArgumentException("A wait is for at least one signal.", nameof(names));
        }

        foreach (var name in names)
        {
            Validate(name, 1);
        }
    }

    /// <summary>
    /// <see cref="ValidateNames(IReadOnlyList{string})"/>, and an <see cref="ArgumentException"/> for a timeout to record
    /// (<see cref="IJobSignalStore.AwaitSignalAsync"/>) that could be of any of several names.
    /// </summary>
    public static void ValidateNames(IReadOnlyList<string> names, bool recordTimeout)
    {
        ValidateNames(names);
        if (recordTimeout && names.Count != 1)
        {
            throw new ArgumentException($"A timeout is recorded for a wait of one signal; this one is for {names.Count}.", nameof(recordTimeout));
        }
    }

    /// <summary>The step that holds signal <paramref name="name"/> on its job (an empty result: its wait timed out).</summary>
    public static string StepName(string name) => "$signal:" + name;

    /// <summary>The step that holds the deadline of the job's wait for signal <paramref name="name"/>.</summary>
    public static string WaitStepName(string name) => "$wait:" + name;

    /// <summary>
    /// True when <paramref name="waitStep"/>, the result of the job's wait step (<see cref="WaitStepName"/>), holds a
    /// deadline at or before <paramref name="now"/>: the wait has timed out, whether or not a worker has recorded it yet,
    /// and a signal delivered now records the timeout instead (<see cref="JobSignalResult.WaitTimedOut"/>).
    /// </summary>
    public static bool WaitHasTimedOut(ReadOnlySpan<byte> waitStep, DateTimeOffset now) =>
        Handlers.DeadlineSteps.TryRead(waitStep, out var until) && until <= now;

    // Read-only fields, not constants: a store compiled against one version reads them from the version it runs with.

    /// <summary>How the reason of every job parked waiting for signals begins (<see cref="WaitReason(IReadOnlyList{string}, DateTimeOffset)"/>).</summary>
    public static readonly string WaitReasonStart = "Waiting for signal";

    /// <summary>What follows the names in the reason of a job parked waiting for signals, before the wait's deadline.</summary>
    public static readonly string WaitReasonUntil = " until ";

    /// <summary>The reason a job parked for signal <paramref name="name"/> shows (<see cref="JobInfo.SnoozeReason"/>).</summary>
    public static string WaitReason(string name, DateTimeOffset until) => WaitReason([name], until);

    /// <summary>
    /// The reason a job parked waiting for any of the signals <paramref name="names"/> shows (<see cref="JobInfo.SnoozeReason"/>):
    /// "Waiting for signal 'a' until …" for one, "Waiting for signals 'a', 'b' until …" for several, each name quoted
    /// (<see cref="QuotedName"/>), <paramref name="until"/> the earliest of their deadlines.
    /// </summary>
    public static string WaitReason(IReadOnlyList<string> names, DateTimeOffset until)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfZero(names.Count);
        var quoted = string.Join(", ", names.Select(QuotedName));
        var plural = names.Count == 1 ? "" : "s";
        return string.Create(CultureInfo.InvariantCulture, $"{WaitReasonStart}{plural} {quoted}{WaitReasonUntil}{until.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}.");
    }

    /// <summary>
    /// Signal <paramref name="name"/> as a wait's reason names it: in single quotes, which no signal name contains, so
    /// that the quoted name is found in a reason only where the reason names that signal.
    /// </summary>
    public static string QuotedName(string name) => "'" + name + "'";

    /// <summary>
    /// True when <paramref name="reason"/>, a scheduled job's snooze reason, is that of a park waiting for signal
    /// <paramref name="name"/> (alone or with others, <see cref="WaitReason(IReadOnlyList{string}, DateTimeOffset)"/>): it
    /// begins with <see cref="WaitReasonStart"/> and names the signal (<see cref="QuotedName"/>) before the first
    /// <see cref="WaitReasonUntil"/>. What tells a store that the job waits for that signal now, and is not snoozed for
    /// another reason (a rate limit, a sleep, a wait for other signals) while the wait step of an earlier attempt is
    /// still on it. Ordinal, as each store compares: byte for byte.
    /// </summary>
    public static bool IsWaitReasonFor(string? reason, string name)
    {
        if (reason is null || !reason.StartsWith(WaitReasonStart, StringComparison.Ordinal))
        {
            return false;
        }

        var quoted = reason.IndexOf(QuotedName(name), StringComparison.Ordinal);
        return quoted >= 0 && quoted < reason.IndexOf(WaitReasonUntil, StringComparison.Ordinal);
    }

    private static string Shorten(string name) => name.Length <= 40 ? name : name[..40] + "…";

    /// <summary>
    /// For a payload <see cref="IsJsonPayload"/> refused: the path of a name given twice in one of its objects
    /// (<c>payload.by.x</c>), when that is why; null otherwise.
    /// </summary>
    internal static string? DuplicateName(ReadOnlySpan<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
            return JsonDuplicateNames.Find(document.RootElement, "payload");
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// One JSON value in valid UTF-8, with no name twice in an object and no lone UTF-16 surrogate escape in a string: a
    /// signal's payload, as the client and the Jobs API take it. The first signal of a name is the one a job keeps, so
    /// one its handler could not read (a string that is not text, an object read two ways) must be refused here.
    /// </summary>
    internal static bool IsJsonPayload(ReadOnlySpan<byte> payload, out string reason)
    {
        // The parser checks the JSON's shape, not the UTF-8 inside its strings, which a reader of the steps then fails on.
        if (!Utf8.IsValid(payload))
        {
            reason = "not valid UTF-8.";
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
            using var writer = new Utf8JsonWriter(Stream.Null);
            document.RootElement.WriteTo(writer);
            reason = "";
            return true;
        }
        catch (JsonException e)
        {
            reason = e.Message;
            return false;
        }
        catch (InvalidOperationException)
        {
            // Written back, a string with a lone UTF-16 surrogate escape (\ud800) is not text.
            reason = "a string has an invalid \\u escape (a lone UTF-16 surrogate).";
            return false;
        }
    }
}
