namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Why a request was refused: the field (or query parameter, or header) and the reason.</summary>
internal sealed record ParseError(string Field, string Reason);
