using System.Net;
using Conveyor.Cli.Api;

namespace Conveyor.Cli.Tests;

/// <summary>Where the CLI's requests go, for a server at the root and for one whose API is mounted under a path.</summary>
public sealed class ConveyorApiClientTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/queues?limit=5")]
    [InlineData("http://127.0.0.1:8080/", "http://127.0.0.1:8080/queues?limit=5")]
    [InlineData("https://jobs.example.com/api", "https://jobs.example.com/api/queues?limit=5")]
    [InlineData("https://jobs.example.com/ops/jobs-api/", "https://jobs.example.com/ops/jobs-api/queues?limit=5")]
    public async Task ARequest_KeepsThePathOfTheServersUrl(string url, string expected)
    {
        var handler = new RecordingHandler();
        using var client = new ConveyorApiClient(new CliSettings(new Uri(url), ApiKey: null), handler);

        await client.GetAsync("/queues?limit=5", CancellationToken.None);

        Assert.Equal(expected, handler.Requested?.ToString());
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public Uri? Requested { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requested = request.RequestUri;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") });
        }
    }
}
