using System.Reflection;

namespace Conveyor.Sqlite.Internal;

/// <summary>Loads the embedded SQL files once per process.</summary>
internal static class SqlText
{
    private static readonly string[] Statements = LoadStatements();

    /// <summary>The schema migrations in order; migration i (0-based) brings the schema to version i + 1.</summary>
    public static IReadOnlyList<string> Migrations { get; } = [Load("Migrations.0001_initial.sql"), Load("Migrations.0002_snooze.sql"), Load("Migrations.0003_retention.sql"), Load("Migrations.0004_schedules.sql"), Load("Migrations.0005_queue_counts.sql"), Load("Migrations.0006_finished_by_queue.sql"), Load("Migrations.0007_idempotency.sql"), Load("Migrations.0008_listing_indexes.sql"), Load("Migrations.0009_rate_limits.sql"), Load("Migrations.0010_fair_queues.sql"), Load("Migrations.0011_workflows.sql"), Load("Migrations.0012_job_steps.sql"), Load("Migrations.0013_limit_definitions.sql"), Load("Migrations.0014_dependency_failure.sql"), Load("Migrations.0015_workflow_steps.sql"), Load("Migrations.0016_flow_trigger_plans.sql"), Load("Migrations.0017_flow_count_first.sql"), Load("Migrations.0018_flow_cancel_closure.sql"), Load("Migrations.0019_flow_end_once.sql"), Load("Migrations.0020_flow_counted_once.sql"), Load("Migrations.0021_batch_listing.sql"), Load("Migrations.0022_batch_listing_every_tenant.sql"), Load("Migrations.0023_cancelled_batch_never_succeeds.sql"), Load("Migrations.0024_errors_kept.sql"), Load("Migrations.0025_flow_released_after_dependencies.sql"), Load("Migrations.0026_batch_finished_after_its_members.sql"), Load("Migrations.0027_schedule_revision.sql")];

    public static string Get(SqlStatement statement) => Statements[(int)statement];

    private static string[] LoadStatements()
    {
        var names = Enum.GetNames<SqlStatement>();
        var texts = new string[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            texts[i] = Load($"Sql.{names[i]}.sql");
        }

        return texts;
    }

    private static string Load(string resourceName)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"The embedded SQL resource '{resourceName}' is missing from Conveyor.Sqlite.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
