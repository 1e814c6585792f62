using System.Text.Json;
using System.Text.Json.Serialization;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.AspNetCore.SchedulesApi.Contracts;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Source-generated JSON for every type the Jobs API writes (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(JobCreatedResponse))]
[JsonSerializable(typeof(JobResponse))]
[JsonSerializable(typeof(JobListResponse))]
[JsonSerializable(typeof(JobStepListResponse))]
[JsonSerializable(typeof(BulkJobsResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.StatsApi.Contracts.ThroughputResponse))]
[JsonSerializable(typeof(QueueResponse))]
[JsonSerializable(typeof(QueueListResponse))]
[JsonSerializable(typeof(ServerListResponse))]
[JsonSerializable(typeof(CallerResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(Dictionary<string, HealthCheckResponse>))]
[JsonSerializable(typeof(ScheduleResponse))]
[JsonSerializable(typeof(ScheduleListResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.LimitsApi.Contracts.LimitResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.LimitsApi.Contracts.LimitListResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.WorkflowsApi.Contracts.BatchResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.WorkflowsApi.Contracts.WorkflowResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.WorkflowsApi.Contracts.BatchListResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.WorkflowsApi.Contracts.WorkflowListResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.WorkflowsApi.Contracts.BatchCreatedResponse))]
[JsonSerializable(typeof(Conveyor.AspNetCore.WorkflowsApi.Contracts.WorkflowCreatedResponse))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class ConveyorApiJsonContext : JsonSerializerContext;
