namespace Conveyor.Storage;

/// <summary>
/// The rate and concurrency limits in force, as store records, so that every server applies the same ones and the HTTP
/// API can read and change them at run time. A limit is keyed by kind and name. Servers write the limits of their code
/// and configuration (<see cref="LimitSource.Configuration"/>) and read the whole list again at every refresh; the
/// API writes <see cref="LimitSource.Api"/> ones, which override the configured limit of the same kind and name until
/// they are deleted.
/// </summary>
public interface ILimitStore
{
    /// <summary>Every limit, ordered by kind then name (ordinal).</summary>
    ValueTask<IReadOnlyList<LimitRecord>> ListLimitsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes the limit (<see cref="LimitRecord.UpdatedAt"/> becomes the store's now), in one atomic step: a limit of
    /// source <see cref="LimitSource.Configuration"/> does not replace one of source <see cref="LimitSource.Api"/> (an
    /// API change overrides configuration until it is deleted): nothing is written then and the answer is
    /// <see cref="LimitWriteResult.KeptApiLimit"/>.
    /// </summary>
    ValueTask<LimitWriteResult> PutLimitAsync(LimitRecord limit, CancellationToken cancellationToken);

    /// <summary>Deletes the limit, whatever its source; false if there was none.</summary>
    ValueTask<bool> DeleteLimitAsync(LimitKind kind, string name, CancellationToken cancellationToken);
}
