using System.Globalization;

namespace Conveyor.Sqlite.Internal;

/// <summary>Creates or upgrades the schema of a file, once, even when several processes open it together.</summary>
internal static class SqliteSchema
{
    public static int CurrentVersion => SqlText.Migrations.Count;

    /// <summary>
    /// Switches the file to WAL (a property of the file, kept across connections) and applies the missing
    /// migrations inside BEGIN IMMEDIATE: the second process to get there waits for the write lock, then
    /// reads the new user_version and has nothing to do.
    /// </summary>
    public static void EnsureCreated(SqliteSession session, string databaseName)
    {
        // WAL lets readers run while one process writes. In-memory databases answer "memory"; that is fine.
        session.Execute("PRAGMA journal_mode = WAL;");

        session.InTransaction(databaseName, static (s, name) =>
        {
            var version = (int)s.ExecuteInt64("PRAGMA user_version;");
            if (version > CurrentVersion)
            {
                // Not unavailable: waiting does not make this version understand the file, so a server stops at once.
                throw new InvalidDataException(
                    $"The SQLite database '{name}' has Conveyor schema version {version}, newer than the {CurrentVersion} this version of Conveyor.Sqlite knows. Upgrade Conveyor.Sqlite or use another file.");
            }

            for (var i = version; i < CurrentVersion; i++)
            {
                s.Execute(SqlText.Migrations[i]);
            }

            if (version < CurrentVersion)
            {
                s.Execute(string.Create(CultureInfo.InvariantCulture, $"PRAGMA user_version = {CurrentVersion};"));
            }

            return version;
        });
    }
}
