using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Conveyor.AspNetCore.Tests;

/// <summary>Checks that a response is an RFC 9457 problem with the expected status and a type, and (for 400) the field it names.</summary>
internal static class ProblemAssert
{
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.True(problem.TryGetProperty("type", out var type) && Uri.IsWellFormedUriString(type.GetString(), UriKind.Absolute), $"the problem has no type: {text}");
        if (field is not null)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors), text);
            Assert.True(errors.TryGetProperty(field, out var reasons), $"the problem does not name '{field}': {text}");
            Assert.False(string.IsNullOrWhiteSpace(reasons[0].GetString()));
            Assert.StartsWith(field + ": ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        return problem;
    }

    public static Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) => response.Content.ReadFromJsonAsync<JsonElement>();
}
