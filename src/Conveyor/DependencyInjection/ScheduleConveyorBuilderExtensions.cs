using System.Text;
using Conveyor;
using Conveyor.Scheduling;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Schedules defined in code: written into the store when the server starts (see <see cref="ScheduleDefinition"/>).</summary>
public static class ScheduleConveyorBuilderExtensions
{
    /// <summary>
    /// Defines a schedule: every tick of <paramref name="cron"/> (UTC unless <paramref name="configure"/> sets a
    /// <see cref="ScheduleDefinition.TimeZone"/>) enqueues one job of <paramref name="jobType"/>. The definition is
    /// checked when the server starts; a bad one stops the start naming the schedule and the field.
    /// </summary>
    public static IConveyorBuilder AddSchedule(this IConveyorBuilder builder, string name, string cron, string jobType, Action<ScheduleDefinition>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var definition = new ScheduleDefinition { Name = name, Cron = cron, JobType = jobType };
        configure?.Invoke(definition);
        builder.Services.AddSingleton(new ScheduleRegistration(_ => definition));
        return builder;
    }

    /// <summary>Defines a schedule whose every tick enqueues <paramref name="payload"/> (its type names the job type).</summary>
    public static IConveyorBuilder AddSchedule<TPayload>(this IConveyorBuilder builder, string name, string cron, TPayload payload, Action<ScheduleDefinition>? configure = null)
        where TPayload : IJobPayload
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(new ScheduleRegistration(sp =>
        {
            var json = sp.GetRequiredService<JobPayloadSerializer>().Serialize(payload);
            var definition = new ScheduleDefinition { Name = name, Cron = cron, JobType = TPayload.JobType, Payload = Encoding.UTF8.GetString(json) };
            configure?.Invoke(definition);
            return definition;
        }));
        return builder;
    }
}
