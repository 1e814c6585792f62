using Conveyor.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// What the server checks of a job read from a request beyond its shape: its type is one this server accepts, its
/// payload is within <c>Conveyor:MaxPayloadBytes</c> and fits the handler's payload type. Shared by <c>POST /jobs</c>
/// and every job of <c>POST /batches</c> and <c>POST /workflows</c>.
/// </summary>
internal static class JobRequestChecks
{
    /// <summary>
    /// True when the job passes; otherwise a 400 (<paramref name="invalid"/>) or a 413 (<paramref name="tooLarge"/>) naming
    /// the field under <paramref name="path"/> ("" for a body that is the job, <c>jobs[3]</c> for a job of a batch).
    /// </summary>
    public static bool TryCheck(
        CreateJobRequest request, string path, JobTypeCatalog catalog, ConveyorOptions options, out ValidationProblem? invalid, out ProblemHttpResult? tooLarge)
    {
        invalid = null;
        tooLarge = null;
        if (!catalog.Contains(request.Type))
        {
            invalid = ApiProblems.Invalid(JsonRequest.Join(path, "type"), catalog.Unknown(request.Type));
            return false;
        }

        if (request.Payload.Length > options.MaxPayloadBytes)
        {
            tooLarge = ApiProblems.TooLarge(JsonRequest.Join(path, "payload"), request.Payload.Length, sizeIsExact: true, options.MaxPayloadBytes, "Conveyor:MaxPayloadBytes");
            return false;
        }

        if (catalog.ValidatePayload(request.Type, request.Payload) is { } payloadError)
        {
            invalid = ApiProblems.Invalid(JsonRequest.Join(path, payloadError.Field), payloadError.Reason);
            return false;
        }

        return true;
    }

    /// <summary>
    /// The job to store, built by the client (which checks the options again: a deadline may pass between the two
    /// checks) in <paramref name="tenant"/>, with <paramref name="jobId"/> or a new id; false with a 400 naming the field.
    /// </summary>
    public static bool TryCreate(
        IJobClient client, CreateJobRequest request, string path, string tenant, string? jobId, out NewJob? job, out ValidationProblem? invalid)
    {
        invalid = null;
        try
        {
            job = client.CreateJob(request.Type, request.Payload, request.Options with { Tenant = tenant, JobId = jobId });
            return true;
        }
        catch (ArgumentException e)
        {
            var (field, reason) = CreateJobRequestParser.FieldOf(e);
            invalid = ApiProblems.Invalid(JsonRequest.Join(path, field), reason);
            job = null;
            return false;
        }
    }

    /// <summary>
    /// A 400 naming <paramref name="path"/> when its job's unique key was given to an earlier job of the same request
    /// (<paramref name="earlier"/>: each key seen so far and the path of its job): one job holds a key at a time, so the
    /// store would refuse the request whole, naming a job that was never stored.
    /// </summary>
    public static ValidationProblem? RepeatedUniqueKey(CreateJobRequest request, string path, Dictionary<string, string> earlier)
    {
        if (request.Options.UniqueKey is not { } key)
        {
            return null;
        }

        return earlier.TryAdd(key, path)
            ? null
            : ApiProblems.Invalid($"{path}.unique_key", $"'{key}' is also the unique_key of {earlier[key]}: one job holds a key at a time, so the two cannot be stored together.");
    }
}
