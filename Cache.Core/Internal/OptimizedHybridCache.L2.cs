using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OptimizedCache.Cache.Core.Internal;
using StackExchange.Redis;

namespace OptimizedCache.Cache.Core;

// L2: building the Redis tier (resilient client, envelope, compression, adaptive TTL, tag times), the L2 halves of
// removal and tag invalidation, and the hooks the invalidation bus and the health check use.
public sealed partial class OptimizedHybridCache : IAsyncDisposable
{
    /// <summary>The Redis tier, when one is configured.</summary>
    internal RedisDistributedTier? DistributedTier => _l2 as RedisDistributedTier;

    /// <summary>
    /// The resilient Redis access of the L2 tier (null when L1 only): get, set, unlink, scan pages, publish, tag
    /// times, the subscriber and connection events, all behind the timeout and circuit breaker.
    /// </summary>
    internal ResilientRedis? Redis => DistributedTier?.Redis;

    /// <summary>The circuit breaker's state; <see cref="L2CircuitState.Closed"/> when there is no L2.</summary>
    internal L2CircuitState CircuitState => Redis?.CircuitState ?? L2CircuitState.Closed;

    /// <summary>
    /// Applies a tag invalidation time learned from another replica (Unix ms; <c>*</c> for everything) to this
    /// replica: the locally cached tag times used to check L2 entries, and through them the L1 tag table. Times only
    /// move forward, so applying an old or repeated message changes nothing.
    /// </summary>
    internal void ApplyRemoteTagInvalidation(string tag, long unixMilliseconds)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        if (DistributedTier is { } tier)
        {
            tier.TagTimes.Apply(tag, unixMilliseconds);
        }
        else
        {
            ApplyTagTimeToL1(tag, unixMilliseconds);
        }
    }

    /// <summary>Closes the Redis connection, stops the maintenance timer and releases the meter when owned.</summary>
    public async ValueTask DisposeAsync()
    {
        if (DistributedTier is { } tier)
        {
            await tier.DisposeAsync().ConfigureAwait(false); // idempotent: Dispose then finds it closed
        }

        Dispose();
    }

    private IDistributedCacheTier CreateDistributedTier(IServiceProvider services)
    {
        var loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        ResilientRedis redis;
        if (_options.ConnectionMultiplexerFactory is { } factory)
        {
            // the container's multiplexer (it may connect synchronously when first resolved: never on this thread)
            redis = new ResilientRedis(ct => Task.Run(() => factory(services), ct), ownsConnection: false, "(from the container)", _options.Resilience, _meter, loggerFactory);
        }
        else
        {
            var configuration = RedisConnectionString.Parse(_options.RedisConnectionString!);
            configuration.AbortOnConnectFail = false; // connect in the background; the cache serves from L1 meanwhile
            configuration.BacklogPolicy = BacklogPolicy.FailFast; // while disconnected a call fails at once, not at its deadline
            var maximumDelay = (int)_options.Resilience.MaximumReconnectDelay.TotalMilliseconds;
            configuration.ReconnectRetryPolicy = new ExponentialRetry(Math.Min(100, maximumDelay), maximumDelay);
            redis = new ResilientRedis(
                async _ => await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false),
                ownsConnection: true, RedisConnectionString.Format(configuration.EndPoints[0]), _options.Resilience, _meter, loggerFactory);
        }

        var codecs = CompressionCodecRegistry.CreateDefault(_maximumPayloadBytes, _logger);
        var compression = new AdaptiveCompressionPolicy(codecs, new CompressionPolicyOptions(), new ProcessCpuLoadSource(_time));
        return new RedisDistributedTier(redis, _options, _dataTypes, codecs, compression, _time, _meter, _logger, ApplyTagTimeToL1);
    }

    // A later tag time than this replica knew (read from Redis, written here, or received): L1 follows it.
    private void ApplyTagTimeToL1(string tag, long unixMilliseconds)
    {
        var age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);
        var timestamp = _time.GetTimestamp() - ToTimestampSpan(age < TimeSpan.Zero ? TimeSpan.Zero : age);
        _tags.Invalidate(tag, timestamp);
    }

    private async ValueTask RemoveFromL2Async(string key, CancellationToken cancellationToken) =>
        await _l2!.RemoveAsync(key, cancellationToken).ConfigureAwait(false);

    private async ValueTask InvalidateTagInL2Async(string tag, long unixMilliseconds, CancellationToken cancellationToken) =>
        await _l2!.RemoveByTagAsync(tag, unixMilliseconds, cancellationToken).ConfigureAwait(false);

    private void DisposeDistributedTier()
    {
        if (DistributedTier is not { } tier)
        {
            return;
        }

        // Synchronous disposal (a container disposed with Dispose): wait briefly for the connection to close.
        try
        {
            tier.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // closing a connection that already failed: nothing left to release
        }
    }
}
