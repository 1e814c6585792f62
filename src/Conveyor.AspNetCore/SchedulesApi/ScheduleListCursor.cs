using Conveyor.Scheduling;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.SchedulesApi;

/// <summary>
/// The last schedule of a page, behind <c>s.</c>: for one tenant's listing its name alone, for every tenant's
/// <c>{tenant}/{name}</c>. The mark keeps another listing's cursor (or any text that happens to be a schedule name)
/// from being read as a place in this one.
/// </summary>
internal sealed record ScheduleListCursor(string? Tenant, string Name)
{
    private const string Mark = "s.";

    /// <summary>The ordering of a listing: of one tenant by name; of every tenant by tenant, then name.</summary>
    public static int Compare(ScheduleRecord a, ScheduleRecord b)
    {
        var byTenant = string.CompareOrdinal(a.Tenant, b.Tenant);
        return byTenant != 0 ? byTenant : string.CompareOrdinal(a.Name, b.Name);
    }

    public static ScheduleListCursor Of(ScheduleRecord last, bool everyTenant) => new(everyTenant ? last.Tenant : null, last.Name);

    public static ScheduleListCursor? TryRead(string text, bool everyTenant)
    {
        if (!text.StartsWith(Mark, StringComparison.Ordinal))
        {
            return null;
        }

        text = text[Mark.Length..];
        if (!everyTenant)
        {
            return ScheduleValidator.IsValidName(text) ? new ScheduleListCursor(null, text) : null;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && TenantId.IsStored(text[..slash]) && ScheduleValidator.IsValidName(text[(slash + 1)..])
            ? new ScheduleListCursor(text[..slash], text[(slash + 1)..])
            : null;
    }

    /// <summary>True when the schedule comes after this cursor in its listing's order.</summary>
    public bool IsBefore(ScheduleRecord schedule)
    {
        var byTenant = Tenant is null ? 0 : string.CompareOrdinal(schedule.Tenant, Tenant);
        return byTenant > 0 || (byTenant == 0 && string.CompareOrdinal(schedule.Name, Name) > 0);
    }

    public override string ToString() => Tenant is null ? Mark + Name : $"{Mark}{Tenant}/{Name}";
}
