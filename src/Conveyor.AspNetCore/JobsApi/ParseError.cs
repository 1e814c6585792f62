namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Why a request was refused: the field (or query parameter, or header) and the reason. <c>Forbidden</c> is true when
/// the value is well formed but the caller's key may not use it (another tenant): a 403, not a 400.
/// </summary>
internal sealed record ParseError(string Field, string Reason, bool Forbidden = false);
