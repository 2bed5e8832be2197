using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Api.Tests;

/// <summary>
/// A plain in-process HybridCache (no L2, no serialization) with tag invalidation, standing in for
/// OptimizedHybridCache where a test is about the API's behaviour rather than the cache's.
/// </summary>
internal sealed class InProcessHybridCache : HybridCache
{
    private readonly ConcurrentDictionary<string, (object? Value, long Stamp, string[] Tags)> _entries = new();
    private readonly ConcurrentDictionary<string, long> _tagStamps = new();
    private long _clock;
    private long _clearedAt;

    public override async ValueTask<T> GetOrCreateAsync<TState, T>(
        string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        if (_entries.TryGetValue(key, out var entry) && IsValid(entry.Stamp, entry.Tags))
        {
            return (T)entry.Value!;
        }

        var value = await factory(state, cancellationToken);
        _entries[key] = (value, Interlocked.Increment(ref _clock), tags?.ToArray() ?? []);
        return value;
    }

    public override ValueTask SetAsync<T>(
        string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        _entries[key] = (value, Interlocked.Increment(ref _clock), tags?.ToArray() ?? []);
        return ValueTask.CompletedTask;
    }

    public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        _entries.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }

    public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        var stamp = Interlocked.Increment(ref _clock);
        if (tag == "*")
        {
            _clearedAt = stamp;
        }
        else
        {
            _tagStamps[tag] = stamp;
        }

        return ValueTask.CompletedTask;
    }

    private bool IsValid(long stamp, string[] tags) =>
        stamp > Volatile.Read(ref _clearedAt) && tags.All(t => !_tagStamps.TryGetValue(t, out var at) || stamp > at);
}
