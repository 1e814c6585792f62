using System.CommandLine;
using Conveyor.Cli.Commands;

namespace Conveyor.Cli;

/// <summary>The <c>conveyor</c> command tree. Parse errors exit with <see cref="ExitCodes.Usage"/>; failures with the code their kind has.</summary>
internal static class CliApplication
{
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        var options = new GlobalOptions();
        var root = new RootCommand("Queues, jobs and schedules of a Conveyor server, over its HTTP API.");
        options.AddTo(root);
        root.Subcommands.Add(StatsCommand.Create(options, environment));
        root.Subcommands.Add(QueuesCommand.Create(options, environment));
        root.Subcommands.Add(JobsCommand.Create(options, environment));
        root.Subcommands.Add(SchedulesCommand.Create(options, environment));
        root.Subcommands.Add(BatchesCommand.Create(options, environment));
        root.Subcommands.Add(WorkflowsCommand.Create(options, environment));
        root.Subcommands.Add(ServersCommand.Create(options, environment));
        root.Subcommands.Add(DashCommand.Create(options, environment));

        // No response files: '@' starts a --payload file (@file, @- for standard input), which the parser would
        // otherwise read as more arguments before any command saw it.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await environment.Error.WriteLineAsync($"conveyor: {error.Message}").ConfigureAwait(false);
            }

            await environment.Error.WriteLineAsync("Run 'conveyor --help' for the commands and their options.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = environment.Out, Error = environment.Error }, cancellationToken).ConfigureAwait(false);
    }
}
