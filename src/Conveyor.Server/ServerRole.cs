using Conveyor.AspNetCore;
using Conveyor.Server.SampleJobs;

namespace Conveyor.Server;

/// <summary>
/// What this server process does, from <c>Conveyor:Role</c>: <c>all</c> (default) the Jobs API, the dashboard and the
/// workers; <c>api</c> the Jobs API and the dashboard without workers, for teams whose jobs run in their own worker
/// apps on the same store; <c>worker</c> the workers without the Jobs API and the dashboard. Every role keeps
/// <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>, so each process can be probed and scraped.
/// </summary>
internal sealed partial class ServerRole
{
    public const string SettingKey = "Conveyor:Role";

    public static readonly ServerRole All = new("all", ServesApi: true, RunsWorkers: true);
    public static readonly ServerRole Api = new("api", ServesApi: true, RunsWorkers: false);
    public static readonly ServerRole Worker = new("worker", ServesApi: false, RunsWorkers: true);

    private static readonly ServerRole[] Known = [All, Api, Worker];

    private ServerRole(string name, bool ServesApi, bool RunsWorkers)
    {
        Name = name;
        this.ServesApi = ServesApi;
        this.RunsWorkers = RunsWorkers;
    }

    /// <summary>all, api or worker.</summary>
    public string Name { get; }

    /// <summary>Maps the Jobs API, the dashboard, the sample jobs' endpoints and the OpenAPI document.</summary>
    public bool ServesApi { get; }

    /// <summary>Runs a job server (workers, promoter, recoverer, janitor) in this process.</summary>
    public bool RunsWorkers { get; }

    /// <summary>The configured role; an unknown value stops the process naming the setting and what it accepts.</summary>
    public static ServerRole Configured(IConfiguration configuration)
    {
        var value = configuration[SettingKey];
        if (string.IsNullOrWhiteSpace(value))
        {
            return All;
        }

        return Array.Find(Known, r => string.Equals(r.Name, value.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidSettingException(
                $"{SettingKey} is '{value}'; it accepts one of: {string.Join(", ", Known.Select(r => r.Name))}.");
    }

    /// <summary>Registers the services of the role: the API services always (health and metrics need them), the workers if it runs them.</summary>
    public IConveyorBuilder AddTo(IConveyorBuilder conveyor)
    {
        conveyor.AddApi();
        return RunsWorkers ? conveyor.AddServer() : conveyor;
    }

    /// <summary>What this role serves over HTTP, for the start-up line.</summary>
    public string Endpoints => ServesApi
        ? "API, dashboard at /dashboard, metrics at /metrics"
        : "health at /healthz and /readyz, metrics at /metrics; no API or dashboard in role worker";

    /// <summary>Maps the endpoints of the role and says at start what this process does.</summary>
    public void MapEndpoints(WebApplication app)
    {
        if (ServesApi)
        {
            app.MapConveyorApi();
            app.MapConveyorDashboard();
            app.MapSampleJobEndpoints();
            // The one document there is: another name falls through to the API's 404 problem, not the OpenAPI
            // endpoint's own text/plain one.
            app.MapOpenApi("/openapi/{documentName:regex(^v1$)}.json").AnswerHeadAsGet();
        }

        app.MapConveyorHealth();
        app.MapConveyorMetrics();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conveyor.Server");
        app.Lifetime.ApplicationStarted.Register(() => LogRole(logger, Name, Describe()));
    }

    private string Describe() => (ServesApi, RunsWorkers) switch
    {
        (true, true) => "Jobs API, dashboard and workers",
        (true, false) => "Jobs API and dashboard, no workers: jobs run in the servers of role worker or all, or in your own worker apps, on the same store",
        _ => "workers only: no Jobs API and no dashboard (health and metrics still served)",
    };

    [LoggerMessage(1101, LogLevel.Information, "Conveyor server role {role}: {description}")]
    private static partial void LogRole(ILogger logger, string role, string description);
}
