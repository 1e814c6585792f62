namespace Conveyor.AspNetCore.SchedulesApi;

/// <summary>The API's names of misfire and overlap policies and of a schedule's source (snake_case, as every JSON name).</summary>
internal static class SchedulePolicyNames
{
    public static readonly string[] Misfires = ["once", "skip", "all"];

    public static readonly string[] Overlaps = ["allow", "skip_while_unfinished"];

    public static readonly string[] Sources = ["code", "runtime"];

    public static string ToApi(MisfirePolicy policy) => policy switch
    {
        MisfirePolicy.Skip => "skip",
        MisfirePolicy.All => "all",
        _ => "once",
    };

    public static string ToApi(OverlapPolicy policy) => policy == OverlapPolicy.SkipWhileUnfinished ? "skip_while_unfinished" : "allow";

    public static string ToApi(ScheduleOrigin origin) => origin == ScheduleOrigin.Code ? "code" : "runtime";

    public static bool TryParseMisfire(string text, out MisfirePolicy policy)
    {
        (var known, policy) = text switch
        {
            "once" => (true, MisfirePolicy.Once),
            "skip" => (true, MisfirePolicy.Skip),
            "all" => (true, MisfirePolicy.All),
            _ => (false, MisfirePolicy.Once),
        };
        return known;
    }

    public static bool TryParseOverlap(string text, out OverlapPolicy policy)
    {
        (var known, policy) = text switch
        {
            "allow" => (true, OverlapPolicy.Allow),
            "skip_while_unfinished" => (true, OverlapPolicy.SkipWhileUnfinished),
            _ => (false, OverlapPolicy.Allow),
        };
        return known;
    }
}
