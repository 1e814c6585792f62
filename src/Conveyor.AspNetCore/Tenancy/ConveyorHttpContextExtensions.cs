using Conveyor.AspNetCore;

namespace Microsoft.AspNetCore.Http;

/// <summary>Reads the caller that the Jobs API's key check attached to a request.</summary>
public static class ConveyorHttpContextExtensions
{
    internal static readonly object CallerKey = new();

    /// <summary>
    /// The caller of an endpoint that requires a Conveyor tenant (<c>RequireConveyorTenant()</c>); throws when the
    /// endpoint does not.
    /// </summary>
    public static ConveyorCaller GetConveyorCaller(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(CallerKey, out var caller) && caller is ConveyorCaller c
            ? c
            : throw new InvalidOperationException("This endpoint does not require a Conveyor tenant: add .RequireConveyorTenant() to it.");
    }
}
