namespace Conveyor.AspNetCore;

/// <summary>
/// Settings of the dashboard (<c>MapConveyorDashboard</c>), bound from <c>Conveyor:Dashboard</c> by <c>AddApi()</c>.
/// </summary>
public sealed class ConveyorDashboardOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Conveyor:Dashboard";

    /// <summary>
    /// Hides every action (pause, resume, retry, cancel, delete, trigger, bulk actions): the dashboard only shows.
    /// The page still calls the API with the key the user types, so this is a view, not a permission: a key that must
    /// not change anything should not be given out. Default false.
    /// </summary>
    public bool ReadOnly { get; set; }
}
