namespace Conveyor.Storage;

/// <summary>What <see cref="IJobQueueStore.AcknowledgeAndTakeReleasedAsync"/> did: the acknowledgements applied and the jobs it leased.</summary>
/// <param name="Applied">How many acknowledgements applied (as <see cref="IJobQueueStore.AcknowledgeManyAsync"/> counts them).</param>
/// <param name="Leased">The jobs leased in the same step because the acknowledgements released waiting jobs; empty otherwise.</param>
public sealed record AcknowledgeResult(int Applied, IReadOnlyList<LeasedJob> Leased);
