using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Conveyor.Server;

/// <summary>
/// Turns what stops the server from starting into one line for the operator (a bad setting, an address in use, a store
/// that cannot be opened), instead of an unhandled exception with a stack trace. Anything else is a bug and keeps its
/// stack trace.
/// </summary>
internal static partial class StartupFailure
{
    /// <summary>One line saying what is wrong, or null when the failure is not one an operator can fix by a setting.</summary>
    public static string? Describe(Exception exception)
    {
        var message = exception switch
        {
            InvalidSettingException e => e.Message,
            OptionsValidationException e => string.Join(" ", e.Failures.Select(f => Failure(e, f))),
            Storage.JobStoreUnavailableException e => e.Message,
            IOException { InnerException: AddressInUseException } e => $"{e.Message.TrimEnd('.')}: another process listens there. Choose another address with --urls or ASPNETCORE_URLS.",
            AggregateException { InnerExceptions.Count: 1 } e => Describe(e.InnerExceptions[0]),

            // A settings file that is not JSON: "Failed to load configuration from file '…'." and the parser's place.
            InvalidDataException { InnerException: { } inner } e when e.Message.StartsWith("Failed to load configuration", StringComparison.Ordinal) =>
                $"{e.Message} {inner.Message}",
            _ when exception.GetBaseException() is InvalidSettingException inner => inner.Message,
            _ => null,
        };
        return message is null ? null : Whitespace().Replace(message, " ").Trim();
    }

    /// <summary>
    /// Data annotations say "DataAnnotation validation failed for 'T' members: 'M' with the error: '…'", and the
    /// generated validators "M: …" for an options class's own checks: keep the error, which names the setting.
    /// </summary>
    private static string Failure(OptionsValidationException exception, string failure)
    {
        var match = DataAnnotationFailure().Match(failure);
        if (!match.Success)
        {
            return MemberPrefix().Match(failure) is { Success: true } prefixed ? prefixed.Groups["error"].Value : failure;
        }

        var error = match.Groups["error"].Value;
        return error.Contains("Conveyor:", StringComparison.Ordinal) ? error : $"{exception.OptionsType.Name}.{match.Groups["member"].Value}: {error}";
    }

    [GeneratedRegex(@"members: '(?<member>[^']*)' with the error: '(?<error>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();

    [GeneratedRegex(@"^[A-Za-z0-9_, ]+: (?<error>Conveyor:.*)$", RegexOptions.Singleline)]
    private static partial Regex MemberPrefix();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
