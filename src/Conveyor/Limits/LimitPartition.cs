namespace Conveyor;

/// <summary>What a limit counts separately.</summary>
public enum LimitPartition
{
    /// <summary>One count for every job the limit matches.</summary>
    None = 0,

    /// <summary>One count per tenant: a tenant that fills its slots does not hold back the others.</summary>
    Tenant = 1,
}
