namespace Conveyor.AspNetCore;

/// <summary>
/// Settings of the HTTP Jobs API, bound from <c>Conveyor:Api</c> and validated at start (a wrong value stops the
/// process with a message that names the setting and what it accepts).
/// </summary>
public sealed class ConveyorApiOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Conveyor:Api";

    /// <summary>The default of <see cref="MaxRequestBytes"/>: 2 MiB, room for a payload at the core's 1 MiB limit.</summary>
    public const int DefaultMaxRequestBytes = 2 * 1024 * 1024;

    /// <summary>The default of <see cref="EnqueueBatchSize"/>.</summary>
    public const int DefaultEnqueueBatchSize = 256;

    /// <summary>The default of <see cref="StoreTimeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultStoreTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="DefaultPageSize"/>.</summary>
    public const int DefaultDefaultPageSize = 50;

    /// <summary>The default of <see cref="MaxPageSize"/>.</summary>
    public const int DefaultMaxPageSize = 200;

    /// <summary>
    /// API keys and the tenant each one acts for. Empty: every request acts for the tenant <c>default</c>, and the
    /// server refuses to listen on anything but loopback addresses.
    /// </summary>
    public List<ConveyorApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Largest request body accepted, in bytes (413 beyond). 1 KiB – 256 MiB, default 2 MiB.</summary>
    public int MaxRequestBytes { get; set; } = DefaultMaxRequestBytes;

    /// <summary>Page size of <c>GET /jobs</c> when the request has no <c>limit</c>. Default 50.</summary>
    public int DefaultPageSize { get; set; } = DefaultDefaultPageSize;

    /// <summary>Largest <c>limit</c> accepted by <c>GET /jobs</c>. 1–1000, default 200.</summary>
    public int MaxPageSize { get; set; } = DefaultMaxPageSize;

    /// <summary>
    /// Most jobs that concurrent <c>POST /jobs</c> requests store in one round trip (group commit). 1 stores each
    /// request's job alone. 1–10,000, default 256.
    /// </summary>
    public int EnqueueBatchSize { get; set; } = DefaultEnqueueBatchSize;

    /// <summary>
    /// Longest a Jobs API request waits for the store: past it the request is answered 503 with Retry-After (a create
    /// or a change may have been stored all the same). 1 second – 10 minutes, default 10 seconds. Raise it for
    /// listings filtered by error text over a large store, which read the jobs in order.
    /// </summary>
    public TimeSpan StoreTimeout { get; set; } = DefaultStoreTimeout;

    /// <summary>The per-tenant rate limit (429 with Retry-After beyond it).</summary>
    public ConveyorApiRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// Job types <c>POST /jobs</c> accepts besides those with a handler registered in this process (an application
    /// that only enqueues lists here the types its workers run elsewhere).
    /// </summary>
    public List<string> JobTypes { get; set; } = [];
}
