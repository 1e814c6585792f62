using System.ComponentModel.DataAnnotations;
using Conveyor.Configuration;

namespace Conveyor.Sqlite;

/// <summary>
/// Settings of the embedded SQLite store, bound from the configuration section <c>Conveyor:Sqlite</c>.
/// With no settings at all the store uses the file <c>conveyor.db</c> in the working directory.
/// </summary>
/// <remarks>
/// The file is opened in WAL mode with <c>synchronous=NORMAL</c>: a process that crashes loses nothing it
/// committed, and a power loss or operating-system crash can roll back the last few transactions but never
/// corrupts the file. Set <see cref="DurableCommits"/> to also keep those through a power loss.
/// Several processes of one machine may share the file (for example a web application that enqueues and a
/// worker that runs the jobs). Do not put it on a network file system: SQLite's locks are not reliable there.
/// </remarks>
public sealed class SqliteStoreOptions : IValidatableObject
{
    /// <summary>The default file name, relative to the working directory.</summary>
    public const string DefaultPath = "conveyor.db";

    /// <summary>The default of <see cref="BusyTimeout"/>.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="ExternalChangePollInterval"/>.</summary>
    public static readonly TimeSpan DefaultExternalChangePollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>The default of <see cref="MaxReadConnections"/>.</summary>
    public const int DefaultMaxReadConnections = 4;

    /// <summary>
    /// The database file; created with its schema on first use. Relative paths are resolved against the
    /// working directory, and a missing parent directory is created. Ignored when
    /// <see cref="ConnectionString"/> is set.
    /// </summary>
    public string? Path { get; set; } = DefaultPath;

    /// <summary>
    /// A full Microsoft.Data.Sqlite connection string, for settings that <see cref="Path"/> cannot express
    /// (for example <c>Password</c> with SQLCipher). Takes precedence over <see cref="Path"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long an operation waits for another connection's write lock before it fails with
    /// <see cref="Conveyor.Storage.JobStoreUnavailableException"/>. Writes are short, so a long wait means
    /// something holds the file.
    /// </summary>
    [SettingRange("00:00:00.100", "00:10:00", ErrorMessage = "Conveyor:Sqlite:BusyTimeout must be between 100 ms and 10 minutes.")]
    public TimeSpan BusyTimeout { get; set; } = DefaultBusyTimeout;

    /// <summary>
    /// While a worker waits for jobs, how often the store checks whether another process changed the file
    /// (a cheap <c>PRAGMA data_version</c>). Jobs enqueued in the same process wake workers at once, and so do those
    /// of other processes where the file system reports writes to the file's write-ahead log (local disks on Linux,
    /// through inotify; measured there); this bounds the latency of jobs enqueued by other processes where it does not.
    /// </summary>
    [SettingRange("00:00:00.010", "00:01:00", ErrorMessage = "Conveyor:Sqlite:ExternalChangePollInterval must be between 10 ms and 1 minute.")]
    public TimeSpan ExternalChangePollInterval { get; set; } = DefaultExternalChangePollInterval;

    /// <summary>Off in tests of the poll alone: the file system then reports no write.</summary>
    internal bool WatchWriteAheadLog { get; set; } = true;

    /// <summary>
    /// Connections kept open for reads (job lookups, listings, statistics), which in WAL mode never wait for
    /// the single writer.
    /// </summary>
    [SettingRange(1, 64, ErrorMessage = "Conveyor:Sqlite:MaxReadConnections must be between 1 and 64.")]
    public int MaxReadConnections { get; set; } = DefaultMaxReadConnections;

    /// <summary>
    /// When true, every commit is flushed to disk (<c>synchronous=FULL</c>), so a power loss loses nothing
    /// committed either; writes get slower. Off by default: with WAL, <c>NORMAL</c> already never corrupts the file.
    /// </summary>
    public bool DurableCommits { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) && string.IsNullOrWhiteSpace(Path))
        {
            yield return new ValidationResult(
                "Conveyor:Sqlite needs a Path (the database file, default 'conveyor.db') or a ConnectionString.",
                [nameof(Path), nameof(ConnectionString)]);
        }

        if (!string.IsNullOrWhiteSpace(ConnectionString) && Unreadable(ConnectionString) is { } reason)
        {
            yield return new ValidationResult($"Conveyor:Sqlite:ConnectionString cannot be read: {reason}", [nameof(ConnectionString)]);
        }
    }

    private static string? Unreadable(string connectionString)
    {
        try
        {
            _ = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            return e.Message;
        }
    }
}
