using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Cache.Core;

/// <summary>Options of <see cref="OptimizedHybridCache"/>, validated when the host starts.</summary>
public sealed class OptimizedHybridCacheOptions
{
    /// <summary>The largest key accepted, in characters; a longer key is an <see cref="ArgumentException"/>.</summary>
    /// <value>1024.</value>
    public int MaximumKeyLength { get; set; } = 1024;

    /// <summary>The largest serialized value cached, in bytes; a larger value is returned to the caller but not cached.</summary>
    /// <value>1 MiB (1,048,576).</value>
    public long MaximumPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>Entry options used when a call gives none (expiration, local expiration, flags).</summary>
    /// <value>null: 5 minutes for both tiers, no flags.</value>
    public HybridCacheEntryOptions? DefaultEntryOptions { get; set; }

    /// <summary>A fixed L1 budget in bytes; when set it wins over <see cref="L1MemoryFraction"/>.</summary>
    /// <value>null: the budget follows the memory available to the process.</value>
    public long? L1MaximumBytes { get; set; }

    /// <summary>
    /// The L1 budget as a fraction of the memory available to the process
    /// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>, which honours container limits).
    /// </summary>
    /// <value>0.10.</value>
    public double L1MemoryFraction { get; set; } = 0.10;

    /// <summary>
    /// The fraction of the GC's high-memory-load threshold above which the process counts as under memory pressure
    /// and the L1 budget shrinks by <see cref="L1PressureShrinkFactor"/>.
    /// </summary>
    /// <value>0.90.</value>
    public double MemoryPressureThreshold { get; set; } = 0.90;

    /// <summary>The factor applied to the L1 budget while the process is under memory pressure.</summary>
    /// <value>0.5.</value>
    public double L1PressureShrinkFactor { get; set; } = 0.5;

    /// <summary>How often memory is checked (also after every gen-2 collection) and expired entries are swept.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The fraction of an entry's local lifetime after which a read refreshes it in the background (once), so hot
    /// keys do not expire under load. 1 turns eager refresh off.
    /// </summary>
    /// <value>0.9 (the last 10% of the entry's life).</value>
    public double EagerRefreshThreshold { get; set; } = 0.9;

    /// <summary>
    /// How long after expiry a value may still be served when the factory fails (fail-safe). Expired entries are kept
    /// this long, within the L1 budget. <see cref="TimeSpan.Zero"/> turns fail-safe off.
    /// </summary>
    /// <value>10 minutes.</value>
    public TimeSpan FailSafeMaxStaleness { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The prefix of every L2 key and channel (<c>{prefix}:{key}</c>).</summary>
    /// <value><c>oc</c>.</value>
    public string KeyPrefix { get; set; } = "oc";

    /// <summary>
    /// The Redis connection string (StackExchange.Redis format: endpoints, <c>password=</c>, <c>ssl=</c>,
    /// <c>serviceName=</c> for Sentinel; a cluster is found from any of its nodes). The cache then owns its own
    /// multiplexer. Null, with no <see cref="ConnectionMultiplexerFactory"/>, runs L1 only.
    /// </summary>
    /// <value>null (L1 only, the embedded default).</value>
    public string? RedisConnectionString { get; set; }

    /// <summary>
    /// Obtains a multiplexer the container owns, for example the one Aspire's <c>AddRedisClient</c> registers (its
    /// health check and tracing then cover the cache's calls); see
    /// <c>OptimizedHybridCacheBuilderExtensions.UseConnectionMultiplexer</c>. Called once, in the background: the
    /// cache serves from L1 until it returns, and retries it when it throws. Set this or
    /// <see cref="RedisConnectionString"/>, not both.
    /// </summary>
    /// <value>null.</value>
    public Func<IServiceProvider, StackExchange.Redis.IConnectionMultiplexer>? ConnectionMultiplexerFactory { get; set; }

    /// <summary>Timeouts and circuit breaker of the L2 (Redis) calls.</summary>
    /// <value>250 ms deadline; the circuit opens at 50% failures over 5 s (at least 10 calls) for 2 s.</value>
    public DistributedCacheResilienceOptions Resilience { get; } = new();

    /// <summary>
    /// The longest an entry lives in L2 whatever its expiration (explicit or adaptive), and how long a tag's
    /// invalidation time is kept in Redis: because no entry outlives it, an invalidated entry is never revived by
    /// its tag time expiring first.
    /// </summary>
    /// <value>7 days.</value>
    public TimeSpan L2MaximumExpiration { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long a tag invalidation time read from Redis is trusted before it is read again. Entries read from L2 are
    /// checked against their tags' times; this bounds how late another replica's <c>RemoveByTagAsync</c> may be
    /// noticed by an L2 read when the invalidation message itself was missed.
    /// </summary>
    /// <value>1 second.</value>
    public TimeSpan TagTimeRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many tag invalidation times read from Redis are kept locally (the least recently read go first).</summary>
    /// <value>10,000.</value>
    public int MaximumCachedTagTimes { get; set; } = 10_000;

    /// <summary>
    /// TTL multiplier per data type (the names of <see cref="DataTypePrefixes"/>) in the adaptive L2 TTL; a data type
    /// not listed gets 1.0.
    /// </summary>
    /// <value><c>product</c> 1.5, <c>inventory</c> 0.5, <c>customer</c> 2.0.</value>
    public IDictionary<string, double> DataTypeTtlMultipliers { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["product"] = 1.5,
        ["inventory"] = 0.5,
        ["customer"] = 2.0,
    };

    /// <summary>The adaptive TTL's jitter: L2 TTLs spread within ± this fraction (the same for a key on every replica).</summary>
    /// <value>0.1.</value>
    public double TtlVariationFactor { get; set; } = 0.1;

    /// <summary>
    /// Key prefixes mapped to data types (<c>product:</c> → <c>product</c>): the data type labels statistics and
    /// metrics and selects per-type policies. A key matching no prefix has the data type <c>other</c>.
    /// </summary>
    /// <value><c>product:</c>, <c>inventory:</c>, <c>customer:</c>, <c>catalog:</c>, <c>order:</c>, <c>recommendation:</c>.</value>
    public IDictionary<string, string> DataTypePrefixes { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["product:"] = "product",
        ["inventory:"] = "inventory",
        ["customer:"] = "customer",
        ["catalog:"] = "catalog",
        ["order:"] = "order",
        ["recommendation:"] = "recommendation",
    };

    /// <summary>
    /// Dependency rules: for each entity type, the tag templates a change to one entity invalidates
    /// (<c>product</c> → <c>catalog:product:{id}</c>, <c>inventory:{id}</c>, <c>recommendations:product:{id}</c>).
    /// <c>{name}</c> placeholders are filled from the values given to
    /// <see cref="OptimizedHybridCache.InvalidateDependentsAsync(string, string, CancellationToken)"/>. At most 256
    /// entity types, 32 templates each, 4 placeholders and 256 characters per template.
    /// </summary>
    /// <value>Empty: no rules.</value>
    public IDictionary<string, string[]> DependencyRules { get; set; } = new Dictionary<string, string[]>(StringComparer.Ordinal);

    /// <summary>
    /// How many invalidated keys, tags and patterns may wait for Redis while it is unavailable; past it the queue is
    /// replaced by one global invalidation ("everything before now is stale") applied when Redis is back.
    /// </summary>
    /// <value>10,000.</value>
    public int InvalidationQueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// How long Redis remembers a removal by key or pattern so that a value read before it (a factory call or an L2
    /// read still in flight on another replica) cannot be written back to L2 after it. Writes of values whose read
    /// started longer ago than this are not written to L2 at all, so it must comfortably exceed the slowest expected
    /// factory plus the propagation delay. Between 1 second and 1 hour.
    /// </summary>
    /// <value>30 seconds.</value>
    public TimeSpan RemovalTombstoneWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many recent key removals Redis remembers (patterns: at most 256 of them); past it the oldest fold into one
    /// time before which every write in flight is refused (some uncached results, never a stale entry).
    /// Between 16 and 10,000,000.
    /// </summary>
    /// <value>100,000.</value>
    public int MaximumRemovalTombstones { get; set; } = 100_000;

    /// <summary>How many keys the hot-key statistics follow (Space-Saving); keys appear only in the stats API.</summary>
    /// <value>100.</value>
    public int TopKeysCapacity { get; set; } = 100;

    /// <summary>The most tags one entry may carry.</summary>
    /// <value>32.</value>
    public int MaximumTagsPerEntry { get; set; } = 32;

    /// <summary>
    /// How many tag invalidation times L1 remembers; past it the oldest is folded into an eager scan of L1, so
    /// memory stays bounded without reviving invalidated entries.
    /// </summary>
    /// <value>10,000.</value>
    public int MaximumTrackedTags { get; set; } = 10_000;
}
