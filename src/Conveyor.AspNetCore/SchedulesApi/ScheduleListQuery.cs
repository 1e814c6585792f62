namespace Conveyor.AspNetCore.SchedulesApi;

/// <summary>A page of <c>GET /schedules</c>: its size, the schedule it starts after, and the tenant (null: every tenant).</summary>
internal sealed record ScheduleListQuery(int Limit, ScheduleListCursor? After, string? Tenant);
