using Conveyor.Diagnostics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Conveyor.OpenTelemetry;

/// <summary>
/// One line per signal: <c>tracing.AddConveyorInstrumentation()</c> records the <c>create</c>/<c>send</c> and
/// <c>process</c> spans of the "Conveyor" <c>ActivitySource</c>; <c>metrics.AddConveyorInstrumentation()</c> collects
/// every instrument of the "Conveyor" meter (the same series as the <c>/metrics</c> endpoint).
/// </summary>
public static class ConveyorInstrumentationExtensions
{
    /// <summary>Subscribes the tracer provider to Conveyor's enqueue and processing spans.</summary>
    public static TracerProviderBuilder AddConveyorInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(ConveyorActivitySource.Name);
    }

    /// <summary>Subscribes the meter provider to the "Conveyor" meter (counters, histograms and store gauges).</summary>
    public static MeterProviderBuilder AddConveyorInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(ConveyorMetrics.MeterName);
    }
}
