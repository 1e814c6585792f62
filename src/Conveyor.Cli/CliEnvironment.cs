namespace Conveyor.Cli;

/// <summary>What the tool reads and writes besides the command line: its streams and the environment (tests pass their own).</summary>
/// <param name="Out">Tables and JSON.</param>
/// <param name="Error">Errors, and progress of bulk work.</param>
/// <param name="In">Where confirmations are read.</param>
/// <param name="GetVariable">The environment's variables.</param>
/// <param name="Handler">The HTTP handler to send requests with; the default one when null.</param>
/// <param name="Width">The width tables are laid out for when <paramref name="Out"/> is not the console (a test rendering as a terminal of that width); 240 when null.</param>
internal sealed record CliEnvironment(TextWriter Out, TextWriter Error, TextReader In, Func<string, string?> GetVariable, HttpMessageHandler? Handler = null, int? Width = null);
