using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Conveyor.Cli.Output;

namespace Conveyor.Cli.Commands;

/// <summary><c>conveyor jobs ls|show|enqueue|retry|cancel|signal|steps|delete</c>, for the API key's tenant.</summary>
internal static class JobsCommand
{
    private static readonly (string, string)[] ListColumns =
    [
        ("job_id", "JOB"), ("tenant", "TENANT"), ("type", "TYPE"), ("queue", "QUEUE"), ("status", "STATUS"), ("attempts", "ATTEMPTS"), ("created_at", "CREATED"),
        ("last_error", "LAST ERROR"),
    ];

    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var jobs = new Command("jobs", "List, show, enqueue, retry, cancel and delete jobs of the key's tenant.");
        jobs.Subcommands.Add(List(options, environment));
        jobs.Subcommands.Add(Show(options, environment));
        jobs.Subcommands.Add(Enqueue(options, environment));
        jobs.Subcommands.Add(BulkAction.Create("retry", "Run failed, cancelled, scheduled or retrying jobs again now.", HttpMethod.Post, id => $"/jobs/{id}/retry", options, environment));
        jobs.Subcommands.Add(BulkAction.Create("cancel", "Cancel jobs; a running job's handler sees its token cancelled.", HttpMethod.Post, id => $"/jobs/{id}/cancel", options, environment));
        jobs.Subcommands.Add(JobSignalCommand.Create(options, environment));
        jobs.Subcommands.Add(JobStepsCommand.Create(options, environment));
        jobs.Subcommands.Add(BulkAction.Create("delete", "Delete jobs that are not running.", HttpMethod.Delete, id => $"/jobs/{id}", options, environment));
        return jobs;
    }

    private static Command List(GlobalOptions options, CliEnvironment environment)
    {
        var filter = new JobFilter();
        var limit = ListPage.Limit("Jobs");
        var cursor = ListPage.Cursor();
        var command = new Command("ls", "The tenant's jobs, newest first, a page at a time.") { limit, cursor };
        filter.AddTo(command);
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var size = ListPage.Size(context, limit);
            var page = await context.Api.GetAsync(filter.Query(context.Parsed, size, context.Parsed.GetValue(cursor)), cancellationToken).ConfigureAwait(false);
            return ListPage.Print(context, page, "jobs", WithLastError, ListColumns);
        });
        return command;
    }

    private static Command Show(GlobalOptions options, CliEnvironment environment)
    {
        var id = new Argument<string>("job-id") { Description = "The job's id." };
        var tenant = new Option<string?>("--tenant") { Description = "Admin keys: the job's tenant, when it is not the key's own." };
        var command = new Command("show", "A job: status, attempts, progress, payload, result and every error.") { id, tenant };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var path = $"/jobs/{CommandRunner.Segment(context.Parsed.GetValue(id)!)}{JobFilter.TenantQuery(context.Parsed.GetValue(tenant))}";
            var job = await context.Api.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(job);
                return ExitCodes.Ok;
            }

            context.Output.Fields(
                job,
                ("job_id", "job"), ("type", "type"), ("queue", "queue"), ("tenant", "tenant"), ("status", "status"), ("attempts", "attempts"), ("max_retry", "max retries"),
                ("progress", "progress"), ("created_at", "created"), ("scheduled_at", "scheduled"), ("started_at", "started"), ("completed_at", "completed"),
                ("cancel_requested", "cancel requested"), ("snoozed_reason", "snoozed"), ("result_url", "result url"), ("trace_id", "trace id"), ("payload", "payload"), ("result", "result"));
            if (job.TryGetProperty("errors", out var errors) && errors.GetArrayLength() > 0)
            {
                context.Output.Table(errors.EnumerateArray(), wholeText: true, ("attempt", "ATTEMPT"), ("occurred_at", "AT"), ("exception_type", "EXCEPTION"), ("item", "ITEM"), ("message", "MESSAGE"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Enqueue(GlobalOptions options, CliEnvironment environment)
    {
        var type = new Argument<string>("type") { Description = "The job type, e.g. note:archive." };
        var payload = new Option<string>("--payload") { Description = "The payload as JSON, or @file to read it from a file (@- for standard input).", DefaultValueFactory = _ => "{}" };
        var queue = new Option<string?>("--queue") { Description = "The queue; the job type's default when not given." };
        var idempotencyKey = new Option<string?>("--idempotency-key")
        {
            Description = "Sent as the Idempotency-Key header (1 to 255 visible ASCII characters, a UUID for instance): "
                + "an enqueue repeated with the same key answers the job the first one stored instead of storing another, "
                + "so a script may repeat one that failed (a 503, no answer) without running the job twice.",
        };
        var command = new Command("enqueue", "Enqueue a job.") { type, payload, queue, idempotencyKey };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var key = context.Parsed.GetValue(idempotencyKey);
            if (key is not null && !IsIdempotencyKey(key))
            {
                // Checked here rather than left to the server: HttpClient refuses a header value outside ASCII before
                // sending it, which would read as an unreachable server.
                throw new CliException(ExitCodes.Usage, $"--idempotency-key: give 1 to {MaxIdempotencyKeyLength} visible ASCII characters (no spaces), a UUID for instance.");
            }

            var json = await ReadPayloadAsync(context.Parsed.GetValue(payload)!, context.Environment, cancellationToken).ConfigureAwait(false);
            var body = new Dictionary<string, object?> { ["type"] = context.Parsed.GetValue(type), ["payload"] = json };
            if (context.Parsed.GetValue(queue) is { } q)
            {
                body["queue"] = q;
            }

            JsonElement created;
            try
            {
                created = await context.Api.CreateAsync("/jobs", JsonSerializer.Serialize(body), key, cancellationToken).ConfigureAwait(false);
            }
            catch (CliException e) when (key is null && e.Status == 503 && e.Message.Contains("may have been stored", StringComparison.Ordinal))
            {
                // The server says the job may be stored and run all the same: a script that repeats on exit code 1
                // would store it a second time, and only a key makes that repeat safe.
                throw e.WithHint("the job may have been stored and run all the same: check with 'conveyor jobs ls' before enqueueing it again, or enqueue with --idempotency-key KEY and repeat with the same key.");
            }

            if (context.Output.Json)
            {
                context.Output.WriteJson(created);
            }
            else
            {
                context.Output.Line($"{CliOutput.Text(created, "job_id")} {CliOutput.Text(created, "status")}");
            }

            // The server's warnings (e.g. no running server serves the queue: a misspelt queue waits for ever) go to
            // standard error, so they are seen in a terminal and do not break a script reading the id.
            if (created.TryGetProperty("warnings", out var warnings) && warnings.ValueKind == JsonValueKind.Array)
            {
                foreach (var warning in warnings.EnumerateArray())
                {
                    await context.Environment.Error.WriteLineAsync($"warning: {warning.GetString()}").ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private const int MaxIdempotencyKeyLength = 255;

    /// <summary>What the server takes as an <c>Idempotency-Key</c>: 1 to 255 characters from '!' to '~'.</summary>
    private static bool IsIdempotencyKey(string key) => key.Length is > 0 and <= MaxIdempotencyKeyLength && key.All(c => c is >= '!' and <= '~');

    internal static async Task<JsonElement> ReadPayloadAsync(string value, CliEnvironment environment, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = value switch
            {
                "@-" => await environment.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false),
                "@" => throw new CliException(ExitCodes.Usage, "--payload @: give a file after the @ (@payload.json), or @- for standard input."),
                ['@', .. var path] => await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false),
                _ => value,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"--payload {value}: {e.Message}");
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Usage, $"--payload is not JSON: {e.Message}");
        }
    }

    /// <summary>The job with its newest error's message as <c>last_error</c>, for the list's last column.</summary>
    private static JsonElement WithLastError(JsonElement job)
    {
        if (!job.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Array || errors.GetArrayLength() == 0)
        {
            return job;
        }

        var fields = job.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        fields["last_error"] = errors[errors.GetArrayLength() - 1].TryGetProperty("message", out var message) ? message : default;
        return JsonSerializer.SerializeToElement(fields);
    }

    internal static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
