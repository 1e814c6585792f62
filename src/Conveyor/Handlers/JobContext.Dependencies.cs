using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Conveyor.Storage;

namespace Conveyor;

/// <summary>What a continuation, a batch callback or a workflow step reads of the jobs it waited for.</summary>
public sealed partial class JobContext
{
    /// <summary>
    /// The jobs this job waited for, with their outcomes and results: for each job dependency (a continuation's parents, a
    /// workflow step's <c>after</c> steps, in that order) the job itself, and for a batch dependency (a batch callback)
    /// every member of the batch. One read of this job and one per dependency (a batch's members in pages of a
    /// thousand). A dependency whose retention has passed is left out: raise its retention when a dependant may start
    /// later than that.
    /// </summary>
    public async ValueTask<IReadOnlyList<DependencyResult>> GetDependencyResultsAsync(CancellationToken cancellationToken = default)
    {
        if (_store is not IJobQueryStore store
            || await store.GetAsync(Tenant, JobId, cancellationToken).ConfigureAwait(false) is not { DependsOn.Count: > 0 } self)
        {
            return [];
        }

        var results = new List<DependencyResult>(self.DependsOn.Count);
        foreach (var dependency in self.DependsOn)
        {
            if (!dependency.OnBatch)
            {
                if (await store.GetAsync(Tenant, dependency.Id, cancellationToken).ConfigureAwait(false) is { } job)
                {
                    results.Add(new DependencyResult(job.Id, job.State, job.Result));
                }

                continue;
            }

            string? cursor = null;
            do
            {
                var page = await store.ListAsync(new JobQuery { Tenant = Tenant, BatchId = dependency.Id, Limit = JobQuery.MaxLimit, Cursor = cursor }, cancellationToken)
                    .ConfigureAwait(false);
                results.AddRange(page.Jobs.Select(static j => new DependencyResult(j.Id, j.State, j.Result)));
                cursor = page.NextCursor;
            }
            while (cursor is not null);
        }

        return results;
    }

    /// <summary>
    /// <see cref="GetDependencyResultsAsync(CancellationToken)"/> with each result read as JSON with the payload
    /// serializer's settings (what <see cref="SetJsonResult{TResult}"/> stored); default for a job without a result.
    /// </summary>
    public async ValueTask<IReadOnlyList<DependencyResult<TResult>>> GetDependencyResultsAsync<TResult>(CancellationToken cancellationToken = default)
    {
        var typeInfo = (JsonTypeInfo<TResult>)JsonOptions.GetTypeInfo(typeof(TResult));
        var raw = await GetDependencyResultsAsync(cancellationToken).ConfigureAwait(false);
        return raw
            .Select(r => new DependencyResult<TResult>(r.JobId, r.State, r.Result is { Length: > 0 } bytes ? JsonSerializer.Deserialize(bytes.Span, typeInfo) : default))
            .ToList();
    }
}

/// <summary>A job a continuation waited for: its id, its outcome and its result (null when it set none).</summary>
public sealed record DependencyResult(string JobId, JobState State, ReadOnlyMemory<byte>? Result)
{
    /// <summary>True when it succeeded or partly succeeded.</summary>
    public bool Succeeded => State is JobState.Succeeded or JobState.Partial;
}

/// <summary>A job a continuation waited for, with its JSON result read as <typeparamref name="TResult"/>.</summary>
public sealed record DependencyResult<TResult>(string JobId, JobState State, TResult? Value)
{
    /// <summary>True when it succeeded or partly succeeded.</summary>
    public bool Succeeded => State is JobState.Succeeded or JobState.Partial;
}
