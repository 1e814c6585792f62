namespace Conveyor;

/// <summary>Options of one publish, applied to the job of every subscriber.</summary>
public sealed class PublishOptions
{
    /// <summary>Whose event it is; default <c>default</c>.</summary>
    public string? Tenant { get; init; }

    /// <summary>The subscribers' jobs run no earlier than this moment.</summary>
    public DateTimeOffset? ProcessAt { get; init; }

    /// <summary>The subscribers' jobs run no earlier than this long from now.</summary>
    public TimeSpan? ProcessIn { get; init; }

    /// <summary>The subscribers' jobs must not run after this moment.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// Makes the publish idempotent: each subscriber's job gets the unique key <c>{UniqueKey}&gt;{its job type}</c>, so a
    /// second publish with the same key while the first's jobs are unfinished (and <see cref="UniqueFor"/> has not
    /// passed) is refused whole, as a duplicate (<see cref="PublishResult.IsDuplicate"/>).
    /// </summary>
    public string? UniqueKey { get; init; }

    /// <summary>How long <see cref="UniqueKey"/> holds at most (required with it).</summary>
    public TimeSpan? UniqueFor { get; init; }
}
