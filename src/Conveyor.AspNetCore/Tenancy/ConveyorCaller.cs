namespace Conveyor.AspNetCore;

/// <summary>Who made a request to the Jobs API: the tenant its API key maps to, and whether the key is an admin key.</summary>
/// <param name="Tenant">The tenant every store call of the request is scoped to.</param>
/// <param name="IsAdmin">True for keys that may read queue statistics and pause or resume queues.</param>
public sealed record ConveyorCaller(string Tenant, bool IsAdmin);
