using System.Diagnostics;

namespace Conveyor.Diagnostics;

/// <summary>The <c>ActivitySource</c> named "Conveyor": subscribe with <c>AddSource("Conveyor")</c> in OpenTelemetry.</summary>
public static class ConveyorActivitySource
{
    public const string Name = "Conveyor";

    public static ActivitySource Source { get; } = new(Name, typeof(ConveyorActivitySource).Assembly.GetName().Version?.ToString());
}
