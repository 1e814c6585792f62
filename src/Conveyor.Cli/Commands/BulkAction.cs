using System.Collections.Concurrent;
using System.CommandLine;
using System.Text.Json;

namespace Conveyor.Cli.Commands;

/// <summary>
/// <c>jobs retry|cancel|delete</c>: on the ids given, or on every job matching a filter (listed first, then confirmed
/// unless <c>--yes</c>), a few requests at a time, with progress on standard error. Jobs the server refuses (a job in a
/// state the action does not apply to) are counted and named, and make the exit code <see cref="ExitCodes.Refused"/>.
/// </summary>
internal static class BulkAction
{
    /// <summary>The most jobs one filtered action takes; narrow the filter for more.</summary>
    public const int MaxJobs = 100_000;

    private const int Parallelism = 8;

    // The server's default largest page (Conveyor:Api:MaxPageSize).
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
            var filtered = !filter.IsEmpty(context.Parsed);
            if (given.Length > 0 == filtered)
            {
                throw new CliException(ExitCodes.Usage, $"jobs {verb}: give job ids, or a filter (--status, --type, --queue), not both and not neither.");
            }

            var targets = filtered ? await ListAsync(context, filter, cancellationToken).ConfigureAwait(false) : given;
            if (filtered && !context.Parsed.GetValue(yes) && !await ConfirmAsync(context, $"{verb} {JobsCommand.Count(targets.Count)} job(s) matching {filter.Describe(context.Parsed)}?").ConfigureAwait(false))
            {
                throw new CliException(ExitCodes.Usage, "Nothing done: not confirmed (--yes skips the question).");
            }

            var refused = new ConcurrentBag<(string Id, string Reason)>();
            var done = 0;
            await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (id, token) =>
            {
                try
                {
                    var target = path(CommandRunner.Segment(id));
                    _ = method == HttpMethod.Delete
                        ? await context.Api.DeleteAsync(target, token).ConfigureAwait(false)
                        : await context.Api.PostAsync(target, null, token).ConfigureAwait(false);
                }
                catch (CliException e) when (e.ExitCode is ExitCodes.Refused or ExitCodes.NotFound)
                {
                    refused.Add((id, e.Message));
                }

                var count = Interlocked.Increment(ref done);
                if (targets.Count > 1 && (count % 500 == 0 || count == targets.Count))
                {
                    await context.Environment.Error.WriteLineAsync($"{verb}: {JobsCommand.Count(count)}/{JobsCommand.Count(targets.Count)}").ConfigureAwait(false);
                }
            }).ConfigureAwait(false);

            var succeeded = targets.Count - refused.Count;
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
                foreach (var (id, reason) in refused.Take(20))
                {
                    context.Output.Line($"  {id}: {reason}");
                }
            }

            return refused.IsEmpty ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    /// <summary>Every id matching the filter, page by page, up to <see cref="MaxJobs"/>.</summary>
    private static async Task<IReadOnlyList<string>> ListAsync(CommandContext context, JobFilter filter, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var page = await context.Api.GetAsync(filter.Query(context.Parsed, PageSize, cursor), cancellationToken).ConfigureAwait(false);
            ids.AddRange(page.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("job_id").GetString()!));
            cursor = page.TryGetProperty("next_cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            if (ids.Count > MaxJobs)
            {
                throw new CliException(ExitCodes.Usage, $"More than {JobsCommand.Count(MaxJobs)} jobs match {filter.Describe(context.Parsed)}: narrow the filter (--type, --queue).");
            }
        }
        while (cursor is not null);
        return ids;
    }

    private static async Task<bool> ConfirmAsync(CommandContext context, string question)
    {
        await context.Environment.Error.WriteAsync($"{question} [y/N] ").ConfigureAwait(false);
        var answer = await context.Environment.In.ReadLineAsync().ConfigureAwait(false);
        return answer?.Trim() is "y" or "Y" or "yes";
    }
}
