using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Conveyor.Client.FireAndForget;

/// <summary>
/// The bounded buffer between fire-and-forget callers (many writers) and the pump (one reader), and the full-buffer
/// policy. A call with room costs one lock-protected write of a struct: no allocation, no task.
/// </summary>
internal sealed class FireAndForgetBuffer
{
    private readonly Channel<FireAndForgetCall> _channel;
    private readonly FireAndForgetDrops _drops;
    private readonly FireAndForgetOptions _options;
    private readonly TimeProvider _timeProvider;
    private volatile bool _closed;

    public FireAndForgetBuffer(FireAndForgetDrops drops, IOptions<FireAndForgetOptions> options, TimeProvider timeProvider)
    {
        _drops = drops;
        _options = options.Value;
        _timeProvider = timeProvider;
        _channel = Channel.CreateBounded<FireAndForgetCall>(new BoundedChannelOptions(_options.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    public ChannelReader<FireAndForgetCall> Reader => _channel.Reader;

    /// <summary>Buffers the call, or applies the full-buffer policy. Never throws and never faults.</summary>
    public ValueTask WriteAsync(in FireAndForgetCall call, CancellationToken cancellationToken)
    {
        if (_channel.Writer.TryWrite(call))
        {
            return default;
        }

        if (_closed)
        {
            _drops.Record(call, FireAndForgetDropReason.Shutdown);
            return default;
        }

        if (_options.FullMode == FireAndForgetFullMode.Drop || _options.FullWaitTimeout <= TimeSpan.Zero)
        {
            _drops.Record(call, FireAndForgetDropReason.BufferFull);
            return default;
        }

        return WaitForRoomAsync(call, cancellationToken);
    }

    /// <summary>No more calls are accepted (they are dropped as <c>shutdown</c>); the reader ends once it has taken what is buffered.</summary>
    public void Close()
    {
        _closed = true;
        _channel.Writer.TryComplete();
    }

    private async ValueTask WaitForRoomAsync(FireAndForgetCall call, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.FullWaitTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await _channel.Writer.WriteAsync(call, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _drops.Record(call, cancellationToken.IsCancellationRequested ? FireAndForgetDropReason.Cancelled : FireAndForgetDropReason.BufferFull);
        }
        catch (ChannelClosedException)
        {
            _drops.Record(call, FireAndForgetDropReason.Shutdown);
        }
    }
}
