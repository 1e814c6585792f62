using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Conveyor.Server.Tests;

/// <summary>
/// A request's W3C trace context reaches the job it creates: a <c>traceparent</c> of a later version too, read as the
/// spec asks a version-00 reader to (its first four fields, the sampled flag), where .NET alone started a trace of its
/// own kind and the job showed no trace.
/// </summary>
public sealed class TraceContextTests : IDisposable
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Span = "00f067aa0ba902b7";

    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-trace-").FullName;

    [Theory]
    [InlineData($"01-{Trace}-{Span}-01-a-later-field")]
    [InlineData($"00-{Trace}-{Span}-01")]
    public async Task Post_WithATraceparentOfThisOrALaterVersion_TheJobAndTheProblemDetailsShowTheRequestsTrace(string traceparent)
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        using var create = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = new StringContent("""{"type": "note:archive", "payload": {"note_id": 1}}""", Encoding.UTF8, "application/json") };
        create.Headers.Add("traceparent", traceparent);
        using var created = await http.SendAsync(create);
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var jobId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        var job = await http.GetFromJsonAsync<JsonElement>($"/jobs/{jobId}");
        Assert.Equal(Trace, job.GetProperty("trace_id").GetString());

        using var refuse = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        refuse.Headers.Add("traceparent", traceparent);
        using var refused = await http.SendAsync(refuse);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.StartsWith($"00-{Trace}-", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("traceId").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData($"01-{Trace}-{Span}-01", $"00-{Trace}-{Span}-01")]
    [InlineData($"cc-{Trace}-{Span}-03-x", $"00-{Trace}-{Span}-01")]
    [InlineData($"01-{Trace}-{Span}-02", $"00-{Trace}-{Span}-00")]
    [InlineData($"00-{Trace}-{Span}-01", $"00-{Trace}-{Span}-01")]
    [InlineData($"00-{Trace}-{Span}-01-x", $"00-{Trace}-{Span}-01-x")]
    [InlineData($"ff-{Trace}-{Span}-01", $"ff-{Trace}-{Span}-01")]
    [InlineData($"01-{Trace}-{Span}-01x", $"01-{Trace}-{Span}-01x")]
    [InlineData($"01-{Trace}-{Span}-0", $"01-{Trace}-{Span}-0")]
    [InlineData($"01-00000000000000000000000000000000-{Span}-01", $"01-00000000000000000000000000000000-{Span}-01")]
    [InlineData("|root.1.", "|root.1.")]
    [InlineData(null, null)]
    public void AsVersion00_ReadsOnlyALaterVersionsWellFormedHeader(string? traceparent, string? read) =>
        Assert.Equal(read, LaterTraceparentVersions.AsVersion00(traceparent));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a process may still hold a file; the temp directory is cleaned by the system
        }
    }
}
