using System.CommandLine;
using Conveyor.Cli.Api;
using Conveyor.Cli.Output;

namespace Conveyor.Cli.Commands;

/// <summary>What one command's action works with: the API client and the output, built from the global options.</summary>
internal sealed record CommandContext(ConveyorApiClient Api, CliOutput Output, CliEnvironment Environment, ParseResult Parsed);

internal static class CommandRunner
{
    /// <summary>Sets <paramref name="command"/>'s action: builds the context, runs <paramref name="action"/>, turns a <see cref="CliException"/> into its line and exit code.</summary>
    public static void SetAction(Command command, GlobalOptions options, CliEnvironment environment, Func<CommandContext, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parsed, cancellationToken) =>
        {
            try
            {
                var settings = CliSettings.Resolve(parsed.GetValue(options.Url), parsed.GetValue(options.ApiKey), environment.GetVariable);
                using var api = new ConveyorApiClient(settings, environment.Handler);
                var output = new CliOutput(environment.Out, environment.Error, parsed.GetValue(options.Json), environment.Width);
                return await action(new CommandContext(api, output, environment, parsed), cancellationToken).ConfigureAwait(false);
            }
            catch (CliException e)
            {
                await environment.Error.WriteLineAsync($"conveyor: {e.Message}").ConfigureAwait(false);
                if (e.Hint is not null)
                {
                    await environment.Error.WriteLineAsync($"conveyor: {e.Hint}").ConfigureAwait(false);
                }

                return e.ExitCode;
            }
        });

    /// <summary>A path segment from user input, escaped so that an id with '/' or '?' cannot reach another endpoint.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);
}
