namespace Conveyor;

/// <summary>What a schedule does at a tick while the job of its previous tick has not finished yet.</summary>
public enum OverlapPolicy
{
    /// <summary>Enqueue the tick's job anyway: runs may overlap. The default.</summary>
    Allow = 0,

    /// <summary>Skip the tick (it is counted as a misfire with policy <c>overlap</c>) while the previous run is scheduled, pending, running or retrying.</summary>
    SkipWhileUnfinished = 1,
}
