using System.CommandLine;

namespace Conveyor.Cli;

/// <summary>The options every command takes: where the server is, the key, and JSON output.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"The server's base URL (else CONVEYOR_URL, the config file, or {CliSettings.DefaultUrl}).",
        Recursive = true,
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "The API key sent as a bearer token (else CONVEYOR_API_KEY or the config file).",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Write the server's JSON instead of tables, for scripts.",
        Recursive = true,
    };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Url);
        root.Options.Add(ApiKey);
        root.Options.Add(Json);
    }
}
