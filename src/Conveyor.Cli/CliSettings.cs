using System.Text.Json;

namespace Conveyor.Cli;

/// <summary>
/// Where the server is and which key to send, from the first place that says: the command line (<c>--url</c>,
/// <c>--api-key</c>), the environment (<c>CONVEYOR_URL</c>, <c>CONVEYOR_API_KEY</c>), the config file
/// (<c>CONVEYOR_CLI_CONFIG</c>, which must exist, else <c>~/.config/conveyor/cli.json</c> if there is one: <c>{"url": "...", "api_key": "..."}</c>);
/// the server's default address otherwise.
/// </summary>
internal sealed record CliSettings(Uri Url, string? ApiKey)
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static CliSettings Resolve(string? url, string? apiKey, Func<string, string?> getVariable)
    {
        url ??= getVariable("CONVEYOR_URL");
        apiKey ??= getVariable("CONVEYOR_API_KEY");

        // Read only when it has something to give: a file of another tool's version does not stop a command that needs none of it.
        var file = url is null || apiKey is null ? ReadConfigFile(getVariable) : default;
        var chosenUrl = url ?? file.Url ?? DefaultUrl;
        var chosenKey = apiKey ?? file.ApiKey;
        if (!Uri.TryCreate(chosenUrl, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"'{chosenUrl}' is not a server URL: give one such as {DefaultUrl} (--url, CONVEYOR_URL or the config file).");
        }

        if (parsed.Query.Length > 0 || parsed.Fragment.Length > 0)
        {
            throw new CliException(ExitCodes.Usage, $"'{chosenUrl}' has a query or a fragment; a server URL is a scheme, a host, a port and a path only.");
        }

        return new CliSettings(parsed, string.IsNullOrWhiteSpace(chosenKey) ? null : chosenKey);
    }

    private static (string? Url, string? ApiKey) ReadConfigFile(Func<string, string?> getVariable)
    {
        var named = getVariable("CONVEYOR_CLI_CONFIG");
        var path = named
            ?? Path.Combine(getVariable("XDG_CONFIG_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"), "conveyor", "cli.json");
        if (!File.Exists(path))
        {
            // No file at the default place is the usual case; a file named on purpose that is not there is a typo,
            // and going on with the default server would act on the wrong one.
            return string.IsNullOrEmpty(named)
                ? (null, null)
                : throw new CliException(ExitCodes.Usage, $"The config file {path} (CONVEYOR_CLI_CONFIG) does not exist.");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return Read(document.RootElement, path);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"The config file {path} could not be read: {e.Message}");
        }
    }

    /// <summary>
    /// Refuses what the file does not take instead of ignoring it: an <c>apikey</c> for <c>api_key</c> would otherwise
    /// send no key and show as a 401 that does not say why.
    /// </summary>
    private static (string? Url, string? ApiKey) Read(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CliException(ExitCodes.Usage, $"The config file {path} must hold one JSON object such as {{\"url\": \"{DefaultUrl}\", \"api_key\": \"...\"}}.");
        }

        string? url = null, apiKey = null;
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("url" or "api_key"))
            {
                throw new CliException(ExitCodes.Usage, $"The config file {path} has an unknown key '{property.Name}': it takes url and api_key.");
            }

            if (property.Value.ValueKind != JsonValueKind.String)
            {
                throw new CliException(ExitCodes.Usage, $"In the config file {path}, {property.Name} must be a string.");
            }

            if (property.Name == "url")
            {
                url = property.Value.GetString();
            }
            else
            {
                apiKey = property.Value.GetString();
            }
        }

        return (url, apiKey);
    }
}
