using System.Text;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// Thousands of random bodies, names and queries against the schedules endpoints: never a 5xx, and a schedule is
/// written only by a request that answered 200 or 201.
/// </summary>
public sealed class ScheduleFuzzTests
{
    private static readonly string[] Fields = ["name", "cron", "time_zone", "job_type", "payload", "queue", "max_retry", "timeout_seconds", "misfire", "overlap", "paused", "extra"];

    private static readonly string[] Strings =
    [
        "", " ", "s", "a:b", "test:noop", "test:note", "UTC", "Europe/Berlin", "America/New_York", "Etc/GMT+5", "Local", "../x", "/etc/passwd",
        "* * * * *", "*/5 * * * * *", "@daily", "@every_second", "0 0 30 2 *", "0 0 31 4 *", "L W # ?", "0 0 L * *", "0 0 ? * 5#3", "0 0 * * MON-FRI",
        "60 * * * *", "* * * * * * *", "*/0 * * * *", "1-0 * * * *", "99999999999 * * * *", "@", "@@daily",
        "once", "skip", "all", "allow", "skip_while_unfinished", "default", "low", "\u0000", "\ud83d\ude00", "é", "\\", "\"",
        new string('x', 101), new string('*', 300), "0 3 * * *\n", "Pacific Standard Time", "UTC+01:00", "GMT",
    ];

    [Fact]
    public async Task RandomRequests_NeverAnswer5xx_AndOnlySuccessesWrite()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "8192" });
        var random = new Random(20261201);
        var written = 0;
        for (var i = 0; i < 2500; i++)
        {
            var (method, path, body) = Request(random);
            using var response = await app.CallAsync(method, path, body);
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"{method} {path} {body} answered {status}: {await response.Content.ReadAsStringAsync()}");
            if (status is 201)
            {
                written++;
            }

            if (method == HttpMethod.Delete && status == 204)
            {
                written--;
            }
        }

        Assert.Equal(written, (await app.Store.ListSchedulesAsync(null, CancellationToken.None)).Count);
    }

    private static (HttpMethod Method, string Path, string? Body) Request(Random random)
    {
        // A NUL in the path is refused by the server itself before routing (TestServer throws instead).
        var name = random.Next(4) == 0 ? Uri.EscapeDataString(RandomString(random).Replace("\0", "", StringComparison.Ordinal)) : "s" + random.Next(20);
        if (name.Length == 0)
        {
            name = "x";
        }

        return random.Next(9) switch
        {
            0 => (HttpMethod.Get, "/schedules?" + RandomQuery(random), null),
            1 => (HttpMethod.Get, "/schedules/" + name, null),
            2 or 3 => (HttpMethod.Post, "/schedules", RandomBody(random)),
            4 => (HttpMethod.Put, "/schedules/" + name, RandomBody(random)),
            5 => (HttpMethod.Delete, "/schedules/" + name, null),
            6 => (HttpMethod.Post, $"/schedules/{name}/pause", null),
            7 => (HttpMethod.Post, $"/schedules/{name}/resume", null),
            _ => (HttpMethod.Post, $"/schedules/{name}/trigger", null),
        };
    }

    private static string RandomQuery(Random random) => random.Next(4) switch
    {
        0 => "limit=" + Uri.EscapeDataString(RandomScalar(random).Trim('"')),
        1 => "cursor=" + Uri.EscapeDataString(RandomString(random)),
        2 => Uri.EscapeDataString(RandomString(random)) + "=" + Uri.EscapeDataString(RandomString(random)),
        _ => "",
    };

    private static string RandomBody(Random random)
    {
        switch (random.Next(12))
        {
            case 0:
                return RandomScalar(random);
            case 1:
                var bytes = new byte[random.Next(1, 64)];
                random.NextBytes(bytes);
                return Encoding.Latin1.GetString(bytes);
        }

        var builder = new StringBuilder("{");
        var valid = random.Next(3) == 0;
        var fields = valid
            ? new List<string> { "name", "cron", "job_type" }
            : Fields.Where(_ => random.Next(2) == 0).ToList();
        foreach (var field in fields.Concat(Fields.Where(_ => random.Next(6) == 0)).Distinct())
        {
            if (builder.Length > 1)
            {
                builder.Append(',');
            }

            var value = (valid, field) switch
            {
                (true, "name") => "\"s" + random.Next(20) + "\"",
                (true, "cron") => Json(Strings[random.Next(13, 31)]),
                (true, "job_type") => "\"test:noop\"",
                _ => RandomValue(random, 0),
            };
            builder.Append(Json(field)).Append(':').Append(value);
        }

        var text = builder.Append('}').ToString();
        return random.Next(15) == 0 ? text[..random.Next(text.Length)] : text;
    }

    private static string RandomValue(Random random, int depth) => random.Next(depth > 2 ? 6 : 8) switch
    {
        6 => "[" + string.Join(",", Enumerable.Range(0, random.Next(3)).Select(_ => RandomValue(random, depth + 1))) + "]",
        7 => "{" + string.Join(",", Enumerable.Range(0, random.Next(3)).Select(i => $"{Json(RandomString(random) + i)}:{RandomValue(random, depth + 1)}")) + "}",
        _ => RandomScalar(random),
    };

    private static string RandomScalar(Random random) => random.Next(9) switch
    {
        0 => "null",
        1 => "true",
        2 => "false",
        3 => random.Next(-5, 2000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        4 => (random.NextDouble() * Math.Pow(10, random.Next(-12, 320))).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        5 => "-1e400",
        6 => "\"\\ud800\"",
        _ => Json(RandomString(random)),
    };

    private static string RandomString(Random random) => random.Next(3) == 0
        ? new string(Enumerable.Range(0, random.Next(0, 12)).Select(_ => (char)random.Next(0, 0x800)).ToArray())
        : Strings[random.Next(Strings.Length)];

    private static string Json(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
