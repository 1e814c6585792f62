using System.Collections.Concurrent;
using System.CommandLine;
using System.Text.Json;

namespace Conveyor.Cli.Commands;

/// <summary>
/// <c>jobs retry|cancel|delete</c>: on the ids given (a few requests at a time; each refusal is named), or on every job
/// matching a filter (confirmed unless <c>--yes</c>) through <c>POST /jobs/bulk</c>, a batch of <see cref="BatchSize"/>
/// per request, with progress on standard error after each batch. Jobs in a state the action does not apply to are
/// counted (and, for ids, named on standard error) and make the exit code <see cref="ExitCodes.Refused"/>; ids that
/// name no job, and nothing else refused, make it <see cref="ExitCodes.NotFound"/>.
/// </summary>
internal static class BulkAction
{
    /// <summary>Jobs one <c>POST /jobs/bulk</c> call handles.</summary>
    public const int BatchSize = 500;

    private const int Parallelism = 8;

    // Refusals named on standard error; --json names them all.
    private const int MaxRefusalsNamed = 20;

    // The server's default largest page (Conveyor:Api:MaxPageSize): the most the confirmation counts.
    private const int PageSize = 200;

    public static Command Create(string verb, string description, HttpMethod method, Func<string, string> path, GlobalOptions options, CliEnvironment environment)
    {
        var ids = new Argument<string[]>("job-id") { Description = "The jobs' ids; or give a filter instead.", Arity = ArgumentArity.ZeroOrMore };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation of a filtered action." };
        var filter = new JobFilter();
        var command = new Command(verb, description) { ids, yes };
        filter.AddTo(command);
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var given = context.Parsed.GetValue(ids) ?? [];
            // With ids, --tenant names their tenant (an admin key acting on another tenant's jobs) rather than filtering.
            var filtered = given.Length > 0 ? !filter.IsEmptyBesidesTenant(context.Parsed) : !filter.IsEmpty(context.Parsed);
            if (given.Length > 0 == filtered)
            {
                throw new CliException(ExitCodes.Usage, $"jobs {verb}: give job ids (and --tenant for another tenant's), or a filter (--status, --type, --queue, --error, --created-after, --created-before, --tenant), not both and not neither.");
            }

            if (filtered)
            {
                return await RunFilteredAsync(context, verb, filter, context.Parsed.GetValue(yes), cancellationToken).ConfigureAwait(false);
            }

            var targets = given;
            var scope = filter.TenantQuery(context.Parsed);
            var refused = new ConcurrentBag<(string Id, string Reason, bool Missing)>();
            var done = 0;
            await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (id, token) =>
            {
                try
                {
                    var target = path(CommandRunner.Segment(id)) + scope;
                    _ = method == HttpMethod.Delete
                        ? await context.Api.DeleteAsync(target, token).ConfigureAwait(false)
                        : await context.Api.PostAsync(target, null, token).ConfigureAwait(false);
                }
                catch (CliException e) when (e.ExitCode is ExitCodes.Refused or ExitCodes.NotFound)
                {
                    refused.Add((id, e.Message, e.ExitCode == ExitCodes.NotFound));
                }

                var count = Interlocked.Increment(ref done);
                if (targets.Length > 1 && (count % 500 == 0 || count == targets.Length))
                {
                    await context.Environment.Error.WriteLineAsync($"{verb}: {JobsCommand.Count(count)}/{JobsCommand.Count(targets.Length)}").ConfigureAwait(false);
                }
            }).ConfigureAwait(false);

            var succeeded = targets.Length - refused.Count;
            if (context.Output.Json)
            {
                context.Output.WriteJson(JsonSerializer.SerializeToElement(new Dictionary<string, object>
                {
                    ["action"] = verb,
                    ["succeeded"] = succeeded,
                    ["refused"] = refused.Select(r => new Dictionary<string, string> { ["job_id"] = r.Id, ["reason"] = r.Reason }).ToList(),
                }));
            }
            else
            {
                context.Output.Line($"{verb}: {JobsCommand.Count(succeeded)} done, {JobsCommand.Count(refused.Count)} refused.");
            }

            // Each refusal is a failure, so it goes where every failure goes, one line on standard error, whatever the
            // output format: standard output keeps only the outcome a script reads.
            var order = targets.Select((id, index) => (id, index)).GroupBy(t => t.id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().index, StringComparer.Ordinal);
            var named = refused.OrderBy(r => order[r.Id]).ToList();
            foreach (var (id, reason, _) in named.Take(MaxRefusalsNamed))
            {
                await context.Environment.Error.WriteLineAsync($"conveyor: {id}: {reason}").ConfigureAwait(false);
            }

            if (named.Count > MaxRefusalsNamed)
            {
                await context.Environment.Error.WriteLineAsync($"conveyor: … and {JobsCommand.Count(named.Count - MaxRefusalsNamed)} more refused (--json names every one).").ConfigureAwait(false);
            }

            // As 'jobs show' of a missing id: 4 when the only failures are jobs that do not exist (for this key), so a
            // script can tell "already gone" from a job whose status does not allow the action (1).
            return named.Count == 0 ? ExitCodes.Ok : named.All(r => r.Missing) ? ExitCodes.NotFound : ExitCodes.Refused;
        });
        return command;
    }

    /// <summary>
    /// Every job the filter matches, a batch per request: the server lists the next batch from the cursor and acts on
    /// it in one store step, and answers the cursor to go on with, so progress is shown as the batches come back.
    /// </summary>
    private static async Task<int> RunFilteredAsync(CommandContext context, string verb, JobFilter filter, bool yes, CancellationToken cancellationToken)
    {
        var described = filter.Describe(context.Parsed);
        if (!yes)
        {
            // One page answers the question cheaply; a filter that matches more says so rather than counting them all.
            var page = await context.Api.GetAsync(filter.Query(context.Parsed, PageSize, null), cancellationToken).ConfigureAwait(false);
            var listed = page.GetProperty("jobs").GetArrayLength();
            var more = page.TryGetProperty("next_cursor", out var next) && next.ValueKind == JsonValueKind.String;
            if (listed == 0 && !more)
            {
                // Nothing to ask about: a question that can only be declined would make a harmless no-op a failure (exit 2).
                return Report(context, verb, matched: 0, applied: 0, skipped: 0, $"{verb}: no job matches {described}; nothing to do.");
            }

            var count = more ? $"{JobsCommand.Count(listed)} or more" : JobsCommand.Count(listed);
            if (!await ConfirmAsync(context, $"{verb} {count} job(s) matching {described}?").ConfigureAwait(false))
            {
                throw new CliException(ExitCodes.Usage, "Nothing done: not confirmed (--yes skips the question).");
            }
        }

        var action = verb;
        long matched = 0, applied = 0, skipped = 0;
        string? cursor = null;
        do
        {
            var body = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["action"] = action,
                ["filter"] = filter.Body(context.Parsed),
                ["cursor"] = cursor,
                ["limit"] = BatchSize,
            });
            var batch = await context.Api.PostAsync("/jobs/bulk", body, cancellationToken).ConfigureAwait(false);
            matched += batch.GetProperty("matched").GetInt64();
            applied += batch.GetProperty("applied").GetInt64();
            skipped += batch.GetProperty("skipped").GetInt64();
            cursor = batch.GetProperty("next_cursor") is { ValueKind: JsonValueKind.String } c ? c.GetString() : null;
            await context.Environment.Error.WriteLineAsync(
                $"{verb}: {JobsCommand.Count(matched)} matched, {JobsCommand.Count(applied)} done, {JobsCommand.Count(skipped)} skipped{(cursor is null ? "" : " …")}").ConfigureAwait(false);
        }
        while (cursor is not null);

        var summary = matched == 0
            ? $"{verb}: no job matches {described}; nothing to do."
            : $"{verb}: {JobsCommand.Count(applied)} done, {JobsCommand.Count(skipped)} refused (their status does not allow {verb}).";
        return Report(context, verb, matched, applied, skipped, summary);
    }

    /// <summary>The outcome of a filtered action: <c>{"action", "matched", "succeeded", "skipped"}</c> with <c>--json</c>, else <paramref name="summary"/>.</summary>
    private static int Report(CommandContext context, string verb, long matched, long applied, long skipped, string summary)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(JsonSerializer.SerializeToElement(new Dictionary<string, object>
            {
                ["action"] = verb,
                ["matched"] = matched,
                ["succeeded"] = applied,
                ["skipped"] = skipped,
            }));
        }
        else
        {
            context.Output.Line(summary);
        }

        return skipped == 0 ? ExitCodes.Ok : ExitCodes.Refused;
    }

    private static async Task<bool> ConfirmAsync(CommandContext context, string question)
    {
        await context.Environment.Error.WriteAsync($"{question} [y/N] ").ConfigureAwait(false);
        var answer = await context.Environment.In.ReadLineAsync().ConfigureAwait(false);
        return answer?.Trim() is "y" or "Y" or "yes";
    }
}
