using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server.Tests;

/// <summary>
/// Operators filter and alert on a log line's event id: every line Conveyor writes has one of its own, the same in
/// every release, and docs/observability.md lists each with its level.
/// </summary>
public sealed partial class LogEventIdsTests
{
    // The libraries and the bundled server; the server project references every store.
    private static readonly string[] AssemblyNames =
        ["Conveyor", "Conveyor.AspNetCore", "Conveyor.Sqlite", "Conveyor.Redis", "Conveyor.Postgres", "Conveyor.Server"];

    private static IReadOnlyList<(MethodInfo Method, LoggerMessageAttribute Message)> LogMethods() =>
    [
        .. from name in AssemblyNames
           from type in Assembly.Load(name).GetTypes()
           from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
           let message = method.GetCustomAttribute<LoggerMessageAttribute>()
           where message is not null
           select (method, message),
    ];

    private static string Name(MethodInfo method) => $"{method.DeclaringType!.FullName}.{method.Name}";

    [Fact]
    public void EveryLogLine_HasAnEventIdOfItsOwn()
    {
        var methods = LogMethods();
        Assert.True(methods.Count > 50, $"found only {methods.Count} log methods");

        // Without one the generator makes an id from the method's name, which changes when the method is renamed.
        Assert.Empty(methods.Where(static m => m.Message.EventId <= 0).Select(static m => Name(m.Method)));
        var shared = methods.GroupBy(static m => m.Message.EventId).Where(static g => g.Count() > 1)
            .Select(static g => $"{g.Key}: {string.Join(", ", g.Select(static m => Name(m.Method)))}");
        Assert.Empty(shared);
    }

    [Fact]
    public void ObservabilityGuide_ListsEveryLogEvent_WithItsLevel()
    {
        var guide = File.ReadAllText(Path.Combine(PrometheusTestEnvironment.RepositoryRoot, "docs", "observability.md"));
        var listed = EventRow().Matches(guide).ToDictionary(static m => int.Parse(m.Groups["id"].Value, System.Globalization.CultureInfo.InvariantCulture), static m => m.Groups["level"].Value);

        // The sample jobs' lines are the sample's, not Conveyor's.
        var expected = LogMethods().Where(static m => m.Method.DeclaringType!.Namespace != "Conveyor.Server.SampleJobs")
            .ToDictionary(static m => m.Message.EventId, static m => m.Message.Level == LogLevel.None ? "as set" : m.Message.Level.ToString());

        Assert.Equal(expected.OrderBy(static e => e.Key), listed.OrderBy(static e => e.Key));
    }

    // A row of the guide's table of log events: | 7 | Information | … |
    [GeneratedRegex(@"^\| (?<id>\d+) \| (?<level>[A-Za-z ]+?) \|", RegexOptions.Multiline)]
    private static partial Regex EventRow();
}
