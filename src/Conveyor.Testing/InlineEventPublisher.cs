using Conveyor.Storage;

namespace Conveyor.Testing;

/// <summary>The publisher of <see cref="ConveyorTestMode.Inline"/>: each publish returns once the subscribers' jobs have run.</summary>
internal sealed class InlineEventPublisher(IEventPublisher inner, ConveyorTestHost host) : IEventPublisher
{
    public async Task<PublishResult> PublishAsync<TEvent>(TEvent @event, PublishOptions? options = null, CancellationToken cancellationToken = default)
        where TEvent : IEventPayload
    {
        var result = await inner.PublishAsync(@event, options, cancellationToken).ConfigureAwait(false);
        await host.RunInlineAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    public IReadOnlyList<NewJob> CreateJobs<TEvent>(TEvent @event, PublishOptions? options = null)
        where TEvent : IEventPayload => inner.CreateJobs(@event, options);
}
