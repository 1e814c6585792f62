namespace Conveyor.Testing;

/// <summary>
/// An assertion of <see cref="ConveyorTestHost"/> did not hold. Any test framework reports it as a failure; the message
/// lists what the store holds, so the failure explains itself.
/// </summary>
public sealed class ConveyorAssertionException : Exception
{
    /// <summary>Creates the exception with its message.</summary>
    public ConveyorAssertionException(string message)
        : base(message)
    {
    }
}
