using System.Net;
using System.Text;

namespace Conveyor.AspNetCore.Tests;

/// <summary>Thousands of random bodies against POST /jobs: never a 500, and a job is written exactly for each 202.</summary>
public sealed class CreateJobFuzzTests
{
    private static readonly string[] Fields =
    [
        "type", "payload", "queue", "max_retry", "timeout_seconds", "deadline", "process_at", "process_in_seconds",
        "unique_key", "unique_for_seconds", "retention_seconds", "Type", "extra", "",
    ];

    private static readonly string[] Values =
    [
        "\"test:noop\"", "\"test:fail\"", "\"unknown:type\"", "\"\"", "null", "true", "0", "-1", "1", "3", "1000", "1001",
        "1e308", "-1e308", "0.5", "\"2030-01-31T09:30:00Z\"", "\"2001-01-01T00:00:00Z\"", "\"2030-13-45T99:99:99Z\"",
        "\"tomorrow\"", "{}", "[]", "{\"a\": [1, {\"b\": null}]}", "\"default\"", "\"low\"", "\"bad queue\"",
        "\"\\u0000\"", "\"\\ud800\"", "99999999999999999999999", "\"x:y:z\"", "\"TEST:NOOP\"",
    ];

    [Fact]
    public async Task Post_RandomBodies_NeverFailWith500_AndWriteOnlyAcceptedJobs()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["RateLimit:Enabled"] = "false" });
        var random = new Random(20261122);
        var accepted = 0;
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < 3000; i++)
        {
            var body = NextBody(random);
            using var response = await app.PostJobAsync(body);
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
            Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for body {body}: {await response.Content.ReadAsStringAsync()}");
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted++;
            }
            else
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        Assert.Equal(accepted, (await app.StoredJobsAsync()).Count);
        Assert.True(accepted > 50, $"the generator should produce some valid bodies too: {string.Join(", ", statuses)}");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 1000, string.Join(", ", statuses));
    }

    private static string NextBody(Random random)
    {
        switch (random.Next(10))
        {
            case 0:
                var bytes = new byte[random.Next(0, 64)];
                random.NextBytes(bytes);
                return Encoding.UTF8.GetString(bytes);
            case 1:
                var valid = ValidBody(random);
                return valid[..random.Next(valid.Length)];
            case 2:
                return ValidBody(random);
            default:
                var builder = new StringBuilder("{");
                var count = random.Next(0, 5);
                for (var i = 0; i < count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    builder.Append('"').Append(Fields[random.Next(Fields.Length)]).Append("\": ").Append(Values[random.Next(Values.Length)]);
                }

                if (random.Next(3) > 0)
                {
                    builder.Append(count > 0 ? "," : "").Append("\"type\": ").Append(random.Next(2) == 0 ? "\"test:noop\"" : Values[random.Next(Values.Length)]);
                }

                return builder.Append('}').ToString();
        }
    }

    private static string ValidBody(Random random) =>
        $$"""{"type": "test:noop", "payload": {"n": {{random.Next()}}}, "max_retry": {{random.Next(0, 10)}}, "queue": "default"}""";
}
