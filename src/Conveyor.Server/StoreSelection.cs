namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Chooses the store from <c>Conveyor:Store</c>: sqlite (the default, no set-up), redis (<c>Conveyor:Redis</c>),
/// postgres (<c>Conveyor:Postgres</c>) or memory (jobs die with the process; for demos and tests).
/// </summary>
internal static class StoreSelection
{
    public static readonly string[] Known = ["sqlite", "redis", "postgres", "memory"];

    public static string Configured(IConfiguration configuration) => (configuration["Conveyor:Store"] ?? "sqlite").ToLowerInvariant();

    public static IConveyorBuilder UseConfiguredStore(this IConveyorBuilder builder, IConfiguration configuration)
    {
        var store = Configured(configuration);
        return store switch
        {
            "sqlite" => UseSqliteInDataDirectory(builder, configuration),
            "redis" => builder.UseRedis(),
            "postgres" or "postgresql" => builder.UsePostgres(),
            "memory" => builder.UseInMemoryStore(),
            _ => throw new Conveyor.Server.InvalidSettingException(
                $"Conveyor:Store is '{configuration["Conveyor:Store"]}'; it accepts one of: {string.Join(", ", Known)}."),
        };
    }

    /// <summary>Where the store keeps its jobs, for the start-up banner (never a password).</summary>
    public static string Describe(IConfiguration configuration)
    {
        var store = Configured(configuration);
        return store switch
        {
            "sqlite" => $"sqlite ({Conveyor.Server.DataDirectory.SqlitePath(configuration)})",
            "redis" => $"redis ({RedisEndpoints(configuration["Conveyor:Redis:Configuration"] ?? Conveyor.Redis.RedisStoreOptions.DefaultConfiguration)}, prefix '{configuration["Conveyor:Redis:KeyPrefix"] ?? Conveyor.Redis.RedisStoreOptions.DefaultKeyPrefix}')",
            "postgres" or "postgresql" => $"postgres ({HostOf(configuration["Conveyor:Postgres:ConnectionString"])}, schema '{configuration["Conveyor:Postgres:Schema"] ?? Conveyor.Postgres.PostgresStoreOptions.DefaultSchema}')",
            _ => "memory (jobs are lost when the process stops)",
        };
    }

    private static IConveyorBuilder UseSqliteInDataDirectory(IConveyorBuilder builder, IConfiguration configuration)
    {
        if (!string.IsNullOrEmpty(configuration["Conveyor:Sqlite:ConnectionString"]))
        {
            return builder.UseSqlite();
        }

        var path = Conveyor.Server.DataDirectory.SqlitePath(configuration);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Conveyor.Server.InvalidSettingException(
                $"the SQLite file {path} cannot be created ({e.Message}); set Conveyor:DataDirectory or Conveyor:Sqlite:Path to a writable place.");
        }

        return builder.UseSqlite(o => o.Path = path);
    }

    /// <summary>
    /// Every endpoint of a StackExchange.Redis configuration string (the nodes of a Cluster, a primary and its replicas,
    /// Sentinels), without its options (password=…, ssl=…): the first alone would hide the others an operator configured.
    /// A Sentinel string's service name follows them: it says the endpoints are Sentinels, not the data nodes.
    /// </summary>
    private static string RedisEndpoints(string configuration)
    {
        var parts = configuration.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var endpoints = parts.Where(static part => !part.Contains('=', StringComparison.Ordinal)).ToList();
        var service = parts.FirstOrDefault(static part => part.StartsWith("serviceName=", StringComparison.OrdinalIgnoreCase))?["serviceName=".Length..];
        var described = endpoints.Count == 0 ? "no endpoint" : string.Join(", ", endpoints);
        return string.IsNullOrEmpty(service) ? described : $"Sentinels {described}, service '{service}'";
    }

    private static string HostOf(string? connectionString)
    {
        if (string.IsNullOrEmpty(connectionString))
        {
            return "no connection string";
        }

        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            // A multi-host string lists its hosts, each with its own port or the string's Port.
            var hosts = (builder.Host ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(host => HasPort(host) ? host : host.Count(c => c == ':') > 1 && !host.StartsWith('[') ? $"[{host}]:{builder.Port}" : $"{host}:{builder.Port}");
            return $"{string.Join(", ", hosts)}/{builder.Database}";
        }
        catch (ArgumentException)
        {
            return "connection string not readable";
        }
    }

    // "host:5432" or "[::1]:5432"; not "::1" or "[::1]" alone.
    private static bool HasPort(string host) =>
        host.StartsWith('[') ? host.Contains("]:", StringComparison.Ordinal) : host.Count(c => c == ':') == 1;
}
