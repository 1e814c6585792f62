using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.LimitsApi.Contracts;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.LimitsApi;

/// <summary>Store limit records as API responses, and the names the API gives kinds, partitions and sources.</summary>
internal static class LimitResponseMapper
{
    public const string Concurrency = "concurrency";
    public const string Rate = "rate";

    public static readonly string[] Kinds = [Concurrency, Rate];
    public static readonly string[] Partitions = ["none", "tenant"];
    public static readonly string[] Sources = ["configuration", "api"];

    public static LimitKind? ParseKind(string? kind) => kind switch
    {
        Concurrency => LimitKind.Concurrency,
        Rate => LimitKind.Rate,
        _ => null,
    };

    public static string KindName(LimitKind kind) => kind == LimitKind.Concurrency ? Concurrency : Rate;

    public static LimitResponse ToResponse(LimitRecord limit) => new()
    {
        Kind = KindName(limit.Kind),
        Name = limit.Name,
        Queue = limit.Queue,
        JobType = limit.JobType,
        Partition = limit.PerTenant ? "tenant" : "none",
        Max = limit.Kind == LimitKind.Concurrency ? limit.Limit : null,
        Limit = limit.Kind == LimitKind.Rate ? limit.Limit : null,
        PeriodSeconds = limit.Kind == LimitKind.Rate ? limit.Period.TotalSeconds : null,
        Burst = limit.Kind == LimitKind.Rate ? limit.Burst : null,
        Source = limit.Source == LimitSource.Api ? "api" : "configuration",
        UpdatedAt = Rfc3339.Format(limit.UpdatedAt),
    };
}
