namespace Conveyor.Server;

/// <summary>Why a running job's token was cancelled; the first reason wins and decides the outcome.</summary>
internal enum StopReason
{
    None = 0,
    Timeout = 1,
    Deadline = 2,
    CancelRequested = 3,
    LeaseLost = 4,
    Shutdown = 5,
}
