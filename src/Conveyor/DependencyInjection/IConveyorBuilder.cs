namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>AddConveyor</c>: chain store, handlers, middleware and server registration on it.</summary>
public interface IConveyorBuilder
{
    /// <summary>The service collection Conveyor registers into.</summary>
    IServiceCollection Services { get; }
}
