namespace Conveyor;

/// <summary>
/// The job types this process has a handler for (<c>AddHandler</c>), for hosts that accept jobs from outside and want
/// to refuse a type nobody would run, as the HTTP Jobs API does.
/// </summary>
public interface IRegisteredJobTypes
{
    /// <summary>Every job type with a handler, in no particular order.</summary>
    IReadOnlyCollection<string> JobTypes { get; }
}
