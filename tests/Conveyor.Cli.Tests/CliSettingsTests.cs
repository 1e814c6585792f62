namespace Conveyor.Cli.Tests;

/// <summary>Where the CLI finds its server and key, and the config file it refuses.</summary>
public sealed class CliSettingsTests : IDisposable
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("conveyor-cli-").FullName, "cli.json");

    [Fact]
    public void TheConfigFile_GivesUrlAndKey_WhenNeitherTheCommandLineNorTheEnvironmentDoes()
    {
        File.WriteAllText(_path, """{ "url": "https://jobs.example.com", "api_key": "k-file" }""");

        var fromFile = CliSettings.Resolve(url: null, apiKey: null, Variables());
        var fromEnvironment = CliSettings.Resolve(url: null, apiKey: null, Variables(("CONVEYOR_URL", "http://10.0.0.1:9000"), ("CONVEYOR_API_KEY", "k-env")));
        var fromCommandLine = CliSettings.Resolve("http://127.0.0.1:1", "k-line", Variables(("CONVEYOR_URL", "http://10.0.0.1:9000")));

        Assert.Equal(("https://jobs.example.com/", "k-file"), (fromFile.Url.ToString(), fromFile.ApiKey));
        Assert.Equal(("http://10.0.0.1:9000/", "k-env"), (fromEnvironment.Url.ToString(), fromEnvironment.ApiKey));
        Assert.Equal(("http://127.0.0.1:1/", "k-line"), (fromCommandLine.Url.ToString(), fromCommandLine.ApiKey));
    }

    [Theory]
    [InlineData("""{ "url": "http://127.0.0.1:8080", "apikey": "k" }""", "has an unknown key 'apikey': it takes url and api_key")]
    [InlineData("""{ "api_key": 42 }""", "api_key must be a string")]
    [InlineData("""["http://127.0.0.1:8080"]""", "must hold one JSON object")]
    [InlineData("""{ "url": """, "could not be read")]
    public void AConfigFileWithWhatItDoesNotTake_IsAUsageErrorNamingTheFileAndTheKey(string contents, string expected)
    {
        File.WriteAllText(_path, contents);

        var error = Assert.Throws<CliException>(() => CliSettings.Resolve(url: null, apiKey: null, Variables()));

        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains(_path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AConfigFileNamedByCONVEYOR_CLI_CONFIG_ThatDoesNotExist_IsAUsageErrorNamingIt()
    {
        File.Delete(_path);

        var error = Assert.Throws<CliException>(() => CliSettings.Resolve(url: null, apiKey: null, Variables()));

        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains(_path, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoConfigFileAtTheDefaultPlace_GivesTheDefaultServer()
    {
        var home = Path.GetDirectoryName(_path)!;

        var settings = CliSettings.Resolve(url: null, apiKey: null, name => name == "XDG_CONFIG_HOME" ? home : null);

        Assert.Equal((CliSettings.DefaultUrl + "/", (string?)null), (settings.Url.ToString(), settings.ApiKey));
    }

    [Fact]
    public void TheConfigFile_IsNotRead_WhenTheCommandLineOrTheEnvironmentGiveBoth()
    {
        File.WriteAllText(_path, """{ "url": "http://127.0.0.1:8080", "$schema": "a key of another version" }""");

        var settings = CliSettings.Resolve("http://127.0.0.1:1", apiKey: null, Variables(("CONVEYOR_API_KEY", "k-env")));

        Assert.Equal(("http://127.0.0.1:1/", "k-env"), (settings.Url.ToString(), settings.ApiKey));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/?tenant=a")]
    [InlineData("http://127.0.0.1:8080/api#jobs")]
    public void AUrlWithAQueryOrAFragment_IsAUsageError(string url)
    {
        File.WriteAllText(_path, "{}");

        var error = Assert.Throws<CliException>(() => CliSettings.Resolve(url, apiKey: null, Variables()));

        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains("has a query or a fragment", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);

    private Func<string, string?> Variables(params (string Name, string Value)[] variables) =>
        name => name == "CONVEYOR_CLI_CONFIG" ? _path : variables.FirstOrDefault(v => v.Name == name).Value;
}
