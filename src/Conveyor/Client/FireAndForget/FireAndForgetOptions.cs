using Conveyor.Configuration;

namespace Conveyor;

/// <summary>
/// Settings of <see cref="IFireAndForget"/>, bound from <c>Conveyor:FireAndForget</c> and validated at start (a wrong
/// value stops the process with a message naming the setting and what it accepts).
/// </summary>
public sealed class FireAndForgetOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Conveyor:FireAndForget";

    /// <summary>The default of <see cref="BufferCapacity"/>.</summary>
    public const int DefaultBufferCapacity = 10_000;
    /// <summary>The default of <see cref="MaxBatchSize"/>.</summary>
    public const int DefaultMaxBatchSize = 256;
    /// <summary>The default of <see cref="EnqueueTimeout"/>.</summary>
    public static readonly TimeSpan DefaultEnqueueTimeout = TimeSpan.FromSeconds(5);
    /// <summary>The default of <see cref="FullWaitTimeout"/>.</summary>
    public static readonly TimeSpan DefaultFullWaitTimeout = TimeSpan.FromSeconds(1);
    /// <summary>The default of <see cref="ShutdownTimeout"/>.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The queue of calls whose <see cref="JobOptions.Queue"/> is null. Default <c>low</c>: work nobody waits for gives way to the rest.</summary>
    public string Queue { get; set; } = QueueName.Low;

    /// <summary>Calls the buffer holds while the store catches up. 1–1,000,000, default 10,000.</summary>
    [SettingRange(1, 1_000_000, ErrorMessage = "Conveyor:FireAndForget:BufferCapacity must be between {1} and {2}.")]
    public int BufferCapacity { get; set; } = DefaultBufferCapacity;

    /// <summary>What a call does when the buffer is full: <see cref="FireAndForgetFullMode.Drop"/> (default) or <see cref="FireAndForgetFullMode.Wait"/>.</summary>
    public FireAndForgetFullMode FullMode { get; set; } = FireAndForgetFullMode.Drop;

    /// <summary>With <see cref="FireAndForgetFullMode.Wait"/>: the longest a call waits for room before it is dropped. Up to 1 min, default 1 s.</summary>
    [SettingRange("00:00:00", "00:01:00", ErrorMessage = "Conveyor:FireAndForget:FullWaitTimeout must be between {1} and {2}.")]
    public TimeSpan FullWaitTimeout { get; set; } = DefaultFullWaitTimeout;

    /// <summary>Most jobs stored in one round trip. 1–10,000, default 256.</summary>
    [SettingRange(1, 10_000, ErrorMessage = "Conveyor:FireAndForget:MaxBatchSize must be between {1} and {2}.")]
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>
    /// The longest one round trip may take. A batch that is not stored (the store down, or no answer in time) is tried
    /// again every 50–500 ms, with the same job ids, until it is stored or the host stops: a job an earlier round trip
    /// did store is not stored twice. A batch that times out is split in halves; a lone job's bound doubles at each
    /// timeout, up to 1 min (or this, if longer). Calls made meanwhile wait in the buffer. 10 ms – 5 min, default 5 s.
    /// </summary>
    [SettingRange("00:00:00.010", "00:05:00", ErrorMessage = "Conveyor:FireAndForget:EnqueueTimeout must be between {1} and {2}.")]
    public TimeSpan EnqueueTimeout { get; set; } = DefaultEnqueueTimeout;

    /// <summary>
    /// At host shutdown, the longest the pump goes on storing what is buffered; what is left then is logged and counted
    /// (reason <c>shutdown</c>). Up to 5 min, default 5 s.
    /// </summary>
    [SettingRange("00:00:00", "00:05:00", ErrorMessage = "Conveyor:FireAndForget:ShutdownTimeout must be between {1} and {2}.")]
    public TimeSpan ShutdownTimeout { get; set; } = DefaultShutdownTimeout;
}
