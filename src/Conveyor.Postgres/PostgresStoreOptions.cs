using System.ComponentModel.DataAnnotations;
using Conveyor.Configuration;

namespace Conveyor.Postgres;

/// <summary>
/// Settings of the PostgreSQL store, bound from the <c>Conveyor:Postgres</c> configuration section.
/// </summary>
public sealed class PostgresStoreOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Conveyor:Postgres";

    /// <summary>The default schema of Conveyor's tables.</summary>
    public const string DefaultSchema = "conveyor";

    /// <summary>The default number of statements Npgsql prepares automatically per connection.</summary>
    public const int DefaultMaxAutoPrepare = 32;

    /// <summary>The default wait before the listening connection tries again after it lost the server.</summary>
    public static readonly TimeSpan DefaultListenReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The Npgsql connection string, e.g. <c>Host=db;Database=app;Username=app;Password=…</c>. Not needed when an
    /// <c>NpgsqlDataSource</c> is registered in dependency injection: the store then uses that one.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The schema that holds Conveyor's tables: 1 to 48 characters, lowercase letters, digits and '_', not
    /// starting with a digit and not starting with <c>pg_</c>. Default <c>conveyor</c>.
    /// </summary>
    [Required(ErrorMessage = "Conveyor:Postgres:Schema is required. " + PostgresSchemaName.Rule)]
    [RegularExpression(PostgresSchemaName.Pattern, ErrorMessage = "Conveyor:Postgres:Schema: " + PostgresSchemaName.Rule)]
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>
    /// Whether the store applies its migrations on start (under an advisory lock, so servers starting together do
    /// not race). Set false when a DBA applies the SQL files by hand; the store then checks that they were applied
    /// and refuses to start otherwise. Default true.
    /// </summary>
    public bool ApplyMigrations { get; set; } = true;

    /// <summary>
    /// How many statements Npgsql prepares automatically per connection when the store builds its own data source
    /// from <see cref="ConnectionString"/> (a connection string that sets <c>Max Auto Prepare</c> wins). 0 turns it
    /// off. Default 32.
    /// </summary>
    [SettingRange(0, 1000, ErrorMessage = "Conveyor:Postgres:MaxAutoPrepare must be between {1} and {2}.")]
    public int MaxAutoPrepare { get; set; } = DefaultMaxAutoPrepare;

    /// <summary>
    /// When true, the other statements workers run on the hot path (acknowledge, lease extension, progress,
    /// recovery, promotion) commit with <c>synchronous_commit = off</c>, as dequeues always do: PostgreSQL answers
    /// before their WAL reaches disk, so a slow fsync no longer limits how fast jobs drain. Enqueues and the API's
    /// commands stay fully durable. If the database server crashes, it may forget the last fraction of a second of worker updates
    /// (at most three times <c>wal_writer_delay</c>); those jobs are dequeued or recovered again and run again, which
    /// the at-least-once guarantee already allows. Default false.
    /// </summary>
    public bool RelaxedWorkerCommits { get; set; }

    /// <summary>
    /// How long the listening connection waits before it reconnects after it lost the server. Idle workers fall back
    /// to polling meanwhile. 10 ms to 5 minutes, default 1 s.
    /// </summary>
    [SettingRange("00:00:00.010", "00:05:00", ErrorMessage = "Conveyor:Postgres:ListenReconnectDelay must be between {1} and {2}.")]
    public TimeSpan ListenReconnectDelay { get; set; } = DefaultListenReconnectDelay;
}
