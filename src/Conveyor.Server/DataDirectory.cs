namespace Conveyor.Server;

/// <summary>
/// Where the server keeps its data: <c>Conveyor:DataDirectory</c>, or else <c>Conveyor</c> under the user's local
/// application data (<c>~/.local/share/Conveyor</c> on Linux, <c>%LOCALAPPDATA%\Conveyor</c> on Windows), so that
/// <c>dotnet run</c> never writes a database into the source tree. A relative SQLite path (the default
/// <c>conveyor.db</c>) is a file in it; the sample jobs keep their files next to the SQLite file, or here for the
/// other stores. The start-up line names the directory.
/// </summary>
internal static class DataDirectory
{
    public const string SettingKey = "Conveyor:DataDirectory";

    public static string Resolve(IConfiguration configuration)
    {
        var configured = configuration[SettingKey];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        // A container without a home directory has no local application data: use ./data there.
        return Path.GetFullPath(string.IsNullOrEmpty(local) ? "data" : Path.Combine(local, "Conveyor"));
    }

    /// <summary>The SQLite file: an absolute <c>Conveyor:Sqlite:Path</c> as it is, a relative one inside the data directory.</summary>
    public static string SqlitePath(IConfiguration configuration) =>
        Path.Combine(Resolve(configuration), configuration["Conveyor:Sqlite:Path"] ?? Conveyor.Sqlite.SqliteStoreOptions.DefaultPath);
}
