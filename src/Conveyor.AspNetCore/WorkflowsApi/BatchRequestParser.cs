using System.Buffers;
using System.Text.Json;
using Conveyor.AspNetCore.JobsApi;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>
/// Reads a <c>POST /batches</c> body: <c>{"jobs": [job, ...], "on_success": job, "on_complete": job, "retention_seconds": n}</c>
/// where each job is a <c>POST /jobs</c> body, read by the same parser; <c>POST /batches/{id}/jobs</c> takes <c>jobs</c>
/// alone. Every refusal names the field (<c>jobs[3].queue</c>, <c>on_success.type</c>).
/// </summary>
internal static class BatchRequestParser
{
    /// <summary>The most jobs one request creates (the library has no limit; one request's work is bounded).</summary>
    public const int MaxJobs = 1000;

    /// <summary>The body's nesting depth: a job's payload nests as deep as in <c>POST /jobs</c>.</summary>
    public const int MaxDepth = CreateJobRequestParser.MaxDepth + 2;

    public static readonly string[] Fields = ["jobs", "on_success", "on_complete", "retention_seconds"];

    public static readonly string[] AddFields = ["jobs"];

    private const string Example = "{\"jobs\": [{\"type\": \"note:archive\", \"payload\": {\"note_id\": 42}}], \"on_complete\": {\"type\": \"note:report\"}}";

    /// <summary>Parses the body (<paramref name="adding"/>: of <c>POST /batches/{id}/jobs</c>); on failure <paramref name="error"/> names the field.</summary>
    public static BatchRequest? Parse(ReadOnlySequence<byte> body, DateTimeOffset now, bool adding, out ParseError? error) =>
        JsonRequest.Read(body, MaxDepth, Example, (JsonElement root, out ParseError? e) => Read(root, now, adding, out e), out error);

    private static BatchRequest? Read(JsonElement root, DateTimeOffset now, bool adding, out ParseError? error)
    {
        if (!JsonRequest.CheckFields(root, "", adding ? AddFields : Fields, adding ? "this request" : "a batch", out error))
        {
            return null;
        }

        if (!JsonRequest.TryGetRequiredArray(root, "jobs", MaxJobs, "jobs (each as POST /jobs takes it)", $"is required: an array of 1 to {MaxJobs} jobs, each as POST /jobs takes it.", out var jobsValue, out error))
        {
            return null;
        }

        var jobs = new List<CreateJobRequest>(jobsValue.GetArrayLength());
        foreach (var item in jobsValue.EnumerateArray())
        {
            if (ReadJob(item, $"jobs[{jobs.Count}]", now, out error) is not { } job)
            {
                return null;
            }

            jobs.Add(job);
        }

        CreateJobRequest? onSuccess = null, onComplete = null;
        if (JsonRequest.TryGetOptional(root, "on_success", out var success) && (onSuccess = ReadJob(success, "on_success", now, out error)) is null)
        {
            return null;
        }

        if (JsonRequest.TryGetOptional(root, "on_complete", out var complete) && (onComplete = ReadJob(complete, "on_complete", now, out error)) is null)
        {
            return null;
        }

        if (!JsonRequest.TryGetOptionalSeconds(root, "retention_seconds", out var retention, out error))
        {
            return null;
        }

        return new BatchRequest(jobs, onSuccess, onComplete, retention);
    }

    /// <summary>A job at <paramref name="path"/>, read as <c>POST /jobs</c> reads its body.</summary>
    internal static CreateJobRequest? ReadJob(JsonElement value, string path, DateTimeOffset now, out ParseError? error)
    {
        var job = CreateJobRequestParser.ParseObject(value, now, continuation: false, out error);
        if (job is null)
        {
            error = JsonRequest.Under(path, error!);
        }

        return job;
    }
}
