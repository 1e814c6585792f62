using Conveyor.Storage;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// A <c>POST /jobs/bulk</c> body, read: the action and either the ids (with the tenant they belong to) or the
/// filter as a query whose <see cref="JobQuery.Limit"/> and <see cref="JobQuery.Cursor"/> bound this call's batch.
/// </summary>
internal sealed record BulkJobsRequest(JobBulkAction Action, IReadOnlyList<string>? Ids, string? IdsTenant, JobQuery? Filter);
