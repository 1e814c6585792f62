namespace Conveyor.Storage;

/// <summary>
/// A finished durable step of a job: the result a handler stored under <paramref name="Name"/>, so that a later attempt
/// of the same job reads it instead of running the step again.
/// </summary>
/// <param name="Name">The step's name, unique within the job (1 to <see cref="MaxNameLength"/> characters).</param>
/// <param name="Attempt">The attempt that ran it.</param>
/// <param name="Result">What the step returned, as stored (JSON for the typed helpers); at most <see cref="MaxResultBytes"/>.</param>
/// <param name="CompletedAt">When it was stored.</param>
public sealed record JobStep(string Name, int Attempt, ReadOnlyMemory<byte> Result, DateTimeOffset CompletedAt)
{
    /// <summary>The longest step name.</summary>
    public const int MaxNameLength = 200;

    /// <summary>The largest step result: steps hold what a retry needs (ids, small documents), not files.</summary>
    public const int MaxResultBytes = 1024 * 1024;

    /// <summary>Throws an <see cref="ArgumentException"/> naming what is wrong with the step's name or result size.</summary>
    public static void Validate(string name, int resultLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > MaxNameLength)
        {
            throw new ArgumentException($"A step name has at most {MaxNameLength} characters; '{name[..20]}…' has {name.Length}.", nameof(name));
        }

        if (resultLength > MaxResultBytes)
        {
            throw new ArgumentException($"Step '{name}' returned {resultLength} bytes; a step result holds at most {MaxResultBytes} (store large data elsewhere and return its address).", nameof(resultLength));
        }
    }
}
