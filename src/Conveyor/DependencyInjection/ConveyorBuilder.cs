namespace Microsoft.Extensions.DependencyInjection;

internal sealed class ConveyorBuilder(IServiceCollection services) : IConveyorBuilder
{
    public IServiceCollection Services { get; } = services;
}
