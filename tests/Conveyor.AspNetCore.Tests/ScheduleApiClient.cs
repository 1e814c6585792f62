using System.Net.Http.Headers;
using System.Text;

namespace Conveyor.AspNetCore.Tests;

/// <summary>Requests to the schedules endpoints of a <see cref="TestApp"/>, with an optional body and API key.</summary>
internal static class ScheduleApiClient
{
    /// <summary>A valid create body for test:noop, every option set.</summary>
    public static string FullBody(string name) => $$"""
        {"name": "{{name}}", "cron": "30 2 * * *", "time_zone": "Europe/Berlin", "job_type": "test:noop", "payload": {"n": 1},
         "queue": "low", "max_retry": 2, "timeout_seconds": 30, "misfire": "skip", "overlap": "skip_while_unfinished"}
        """;

    public static string MinimalBody(string name, string cron = "0 3 * * *") => $$"""{"name": "{{name}}", "cron": "{{cron}}", "job_type": "test:noop"}""";

    public static async Task<HttpResponseMessage> CallAsync(this TestApp app, HttpMethod method, string path, string? body, string? key = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType);
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await app.Client.SendAsync(request);
    }
}
