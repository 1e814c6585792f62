namespace Conveyor;

/// <summary>What a fire-and-forget call does when the buffer is full (<c>Conveyor:FireAndForget:FullMode</c>).</summary>
public enum FireAndForgetFullMode
{
    /// <summary>The new call is dropped at once, logged and counted (reason <c>buffer_full</c>); the caller never waits. The default.</summary>
    Drop = 0,

    /// <summary>
    /// The call's task completes when the buffer has room, or after <see cref="FireAndForgetOptions.FullWaitTimeout"/>
    /// with the call dropped (<c>buffer_full</c>): back-pressure on callers that outrun the store.
    /// </summary>
    Wait = 1,
}
