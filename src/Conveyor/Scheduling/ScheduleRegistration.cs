namespace Conveyor.Scheduling;

/// <summary>A schedule defined in code (<c>AddSchedule</c>), built when the server starts (a typed payload needs the serializer).</summary>
internal sealed record ScheduleRegistration(Func<IServiceProvider, ScheduleDefinition> Build);
