using Conveyor.Configuration;
using Microsoft.Extensions.Options;

namespace Conveyor;

/// <summary>
/// <c>Conveyor:Metrics</c>, nested in <see cref="ConveyorOptions"/>: the ranges its attributes state, each failure naming
/// the setting and the value given.
/// </summary>
internal sealed class ConveyorMetricsOptionsValidator : IValidateOptions<ConveyorOptions>
{
    public ValidateOptionsResult Validate(string? name, ConveyorOptions options) =>
        options.Metrics is null ? ValidateOptionsResult.Success : new ConveyorMetricsOptionsAttributesValidator().Validate(name, options.Metrics);
}
