using System.Text.Json;

namespace Conveyor.Cli;

/// <summary>
/// Where the server is and which key to send, from the first place that says: the command line (<c>--url</c>,
/// <c>--api-key</c>), the environment (<c>CONVEYOR_URL</c>, <c>CONVEYOR_API_KEY</c>), the config file
/// (<c>CONVEYOR_CLI_CONFIG</c>, else <c>~/.config/conveyor/cli.json</c>: <c>{"url": "...", "api_key": "..."}</c>);
/// the server's default address otherwise.
/// </summary>
internal sealed record CliSettings(Uri Url, string? ApiKey)
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static CliSettings Resolve(string? url, string? apiKey, Func<string, string?> getVariable)
    {
        var file = ReadConfigFile(getVariable);
        var chosenUrl = url ?? getVariable("CONVEYOR_URL") ?? file.Url ?? DefaultUrl;
        var chosenKey = apiKey ?? getVariable("CONVEYOR_API_KEY") ?? file.ApiKey;
        if (!Uri.TryCreate(chosenUrl, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"'{chosenUrl}' is not a server URL: give one such as {DefaultUrl} (--url, CONVEYOR_URL or the config file).");
        }

        return new CliSettings(parsed, string.IsNullOrWhiteSpace(chosenKey) ? null : chosenKey);
    }

    private static (string? Url, string? ApiKey) ReadConfigFile(Func<string, string?> getVariable)
    {
        var path = getVariable("CONVEYOR_CLI_CONFIG")
            ?? Path.Combine(getVariable("XDG_CONFIG_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"), "conveyor", "cli.json");
        if (!File.Exists(path))
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            return (String(root, "url"), String(root, "api_key"));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new CliException(ExitCodes.Usage, $"The config file {path} could not be read: {e.Message}");
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
