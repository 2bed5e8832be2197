using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Api.Origin;
using OptimizedCache.Api.Telemetry;
using OptimizedCache.Cache.Core;

namespace OptimizedCache.Api.Caching;

/// <summary>
/// Puts the cache between the endpoints and the origin for requests on the cached path, and keeps it out
/// entirely for the others. Counts every origin call, and never lets a cache failure fail a request:
/// a read the cache cannot serve goes to the origin, an invalidation that fails is logged (the cache
/// queues and replays what could not reach Redis).
/// </summary>
public sealed class StoreCache(
    OptimizedHybridCache cache,
    IStoreOrigin origin,
    ApiMetrics metrics,
    ILogger<StoreCache> logger)
{
    /// <summary>Reads through the cache (cached path) or straight from the origin (bypass).</summary>
    public async ValueTask<T> ReadAsync<TArg, T>(
        StoreRequest request,
        CacheEntry entry,
        string? endpoint,
        TArg arg,
        Func<IStoreOrigin, TArg, CancellationToken, ValueTask<T>> fetch,
        CancellationToken cancellationToken)
    {
        if (!request.UseCache)
        {
            return await CallOriginAsync(endpoint, cached: false, arg, fetch, cancellationToken);
        }

        try
        {
            return await cache.GetOrCreateAsync(
                entry.Key,
                (Self: this, Request: request, Endpoint: endpoint, Arg: arg, Fetch: fetch),
                static (state, ct) =>
                {
                    state.Request.OriginCalled = true;
                    return state.Self.CallOriginAsync(state.Endpoint, cached: true, state.Arg, state.Fetch, ct);
                },
                entry.Options,
                entry.Tags,
                cancellationToken);
        }
        catch (Exception e) when (e is not (StoreOriginException or StoreRejectedException or OperationCanceledException) && !request.OriginCalled)
        {
            Log.CacheReadFailed(logger, endpoint ?? entry.Key[..entry.Key.IndexOf(':', StringComparison.Ordinal)], e);
            request.FellBack = true;
            return await CallOriginAsync(endpoint, cached: false, arg, fetch, cancellationToken);
        }
    }

    /// <summary>Makes a write on the origin, counted under the request's path.</summary>
    public ValueTask<T> WriteAsync<TArg, T>(
        StoreRequest request,
        string endpoint,
        TArg arg,
        Func<IStoreOrigin, TArg, CancellationToken, ValueTask<T>> write,
        CancellationToken cancellationToken)
    {
        request.OriginCalled = true;
        return CallOriginAsync(endpoint, request.UseCache, arg, write, cancellationToken);
    }

    /// <summary>
    /// After a write: invalidates what depends on the changed entity, whatever the request's path (a
    /// bypassing write must not leave other requests' cached reads stale). On the cached path with write
    /// through on, the new value is then stored under its key instead of merely being dropped.
    /// </summary>
    public async Task AfterWriteAsync<T>(
        StoreRequest request,
        string entity,
        IReadOnlyDictionary<string, IReadOnlyList<string>> values,
        CacheEntry? writeThroughEntry,
        T value,
        CancellationToken cancellationToken)
    {
        var writeThrough = request.UseCache && request.WriteThrough && writeThroughEntry is not null;
        try
        {
            // The cache's dependency rules (configured from InvalidationOptions) say what the change invalidates.
            if (writeThrough)
            {
                // The written entry is replaced below, so its own tags are not invalidated: an invalidation
                // stamped at the same instant as the new entry could otherwise hide it.
                var tags = cache.GetDependentTags(entity, values).Where(t => !writeThroughEntry!.Tags.Contains(t)).ToList();
                await cache.RemoveByTagAsync(tags, cancellationToken);
                await cache.SetAsync(writeThroughEntry!.Key, value, writeThroughEntry.Options, writeThroughEntry.Tags, cancellationToken);
            }
            else
            {
                await cache.InvalidateDependentsAsync(entity, values, cancellationToken);
                if (writeThroughEntry is not null)
                {
                    await cache.RemoveAsync(writeThroughEntry.Key, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.InvalidationFailed(logger, entity, e);
        }
    }

    /// <summary>Drops every entry (L1 on every replica and L2).</summary>
    public ValueTask ClearAsync(CancellationToken cancellationToken) => cache.ClearAsync(cancellationToken);

    private async ValueTask<T> CallOriginAsync<TArg, T>(
        string? endpoint, bool cached, TArg arg, Func<IStoreOrigin, TArg, CancellationToken, ValueTask<T>> fetch, CancellationToken cancellationToken)
    {
        if (endpoint is null)
        {
            return await fetch(origin, arg, cancellationToken);
        }

        try
        {
            var value = await fetch(origin, arg, cancellationToken);
            metrics.RecordOriginCall(endpoint, cached, OriginOutcome.Success);
            return value;
        }
        catch (StoreOriginException e)
        {
            metrics.RecordOriginCall(endpoint, cached, e.Failure == OriginFailure.RateLimited ? OriginOutcome.RateLimited : OriginOutcome.Error);
            throw;
        }
        catch (StoreRejectedException)
        {
            metrics.RecordOriginCall(endpoint, cached, OriginOutcome.Success);
            throw;
        }
    }
}

/// <summary>A cache key with its tags and expiration.</summary>
/// <param name="Key">The cache key (<c>product:42</c>).</param>
/// <param name="Tags">Tags for invalidation.</param>
/// <param name="Options">Expirations.</param>
public sealed record CacheEntry(string Key, string[] Tags, HybridCacheEntryOptions Options);
