using System.Diagnostics;

namespace Conveyor.Diagnostics;

/// <summary>The <c>ActivitySource</c> named "Conveyor": subscribe with <c>AddSource("Conveyor")</c> in OpenTelemetry.</summary>
public static class ConveyorActivitySource
{
    /// <summary>The activity source's name: pass it to <c>AddSource</c> of a tracer provider.</summary>
    public const string Name = "Conveyor";

    /// <summary>The source of Conveyor's spans (enqueue, process), versioned with the assembly.</summary>
    public static ActivitySource Source { get; } = new(Name, typeof(ConveyorActivitySource).Assembly.GetName().Version?.ToString());
}
