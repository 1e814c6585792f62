namespace Conveyor.Middleware;

/// <summary>One user middleware type, in registration order (registered as a service so order survives DI).</summary>
internal sealed record MiddlewareRegistration(Type MiddlewareType);
