namespace Conveyor.Cli;

/// <summary>The tool's exit codes, so that scripts can tell what went wrong.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The server refused the request (a 4xx other than 401, 403 and 404, or a 5xx): the message says why.</summary>
    public const int Refused = 1;

    /// <summary>The command line is wrong (unknown command, bad option), or a confirmation was declined.</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached, did not answer in time, or no Conveyor API answers at its address (a bare 404).</summary>
    public const int Unreachable = 3;

    /// <summary>The job, queue or schedule named does not exist (for this key's tenant).</summary>
    public const int NotFound = 4;

    /// <summary>The API key is missing or not accepted (401), or not allowed this action (403).</summary>
    public const int Unauthorized = 5;
}
