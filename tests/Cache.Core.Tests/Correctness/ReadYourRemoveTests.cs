using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Cache.Core.Tests.Invalidation;

namespace OptimizedCache.Cache.Core.Tests.Correctness;

/// <summary>
/// Read-your-remove: once a <c>RemoveAsync</c>, <c>RemoveByTagAsync</c> or pattern invalidation has completed, no read
/// that starts afterwards on that instance returns a value written before the invalidation began, whether it comes
/// from L1, from a flight that began earlier, or from L2. On another instance the same holds once the invalidation's
/// message has reached it.
/// </summary>
public sealed class ReadYourRemoveTests
{
    private const int Keys = 8;

    /// <summary>What the checker knows of one key: which values were complete before which invalidation began.</summary>
    private sealed class KeyHistory
    {
        private long _invalidationsStarted;
        private long _invalidationsCompleted;

        /// <summary>Each value written, with the number of invalidations that had begun when its write completed.</summary>
        private readonly ConcurrentDictionary<long, long> _written = new();

        public long BeginInvalidation() => Interlocked.Increment(ref _invalidationsStarted);

        public void EndInvalidation(long number)
        {
            long seen;
            while ((seen = Volatile.Read(ref _invalidationsCompleted)) < number && Interlocked.CompareExchange(ref _invalidationsCompleted, number, seen) != seen)
            {
            }
        }

        public long CompletedInvalidations => Volatile.Read(ref _invalidationsCompleted);

        public void Written(long value) => _written[value] = Volatile.Read(ref _invalidationsStarted);

        /// <summary>Whether <paramref name="value"/> was complete before invalidation number <paramref name="floor"/> began.</summary>
        public bool IsOlderThan(long value, long floor) => _written.TryGetValue(value, out var started) && started < floor;
    }

    private static string Key(int index) => "product:" + index;

    private static string[] Tags(int index) => ["t:" + Key(index)];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task NoReadAfterAnAwaitedInvalidationReturnsAnOlderValue(int seed)
    {
        await using var replicas = await Replicas.StartAsync(1);
        var cache = replicas[0];
        var histories = Enumerable.Range(0, Keys).Select(_ => new KeyHistory()).ToArray();
        long next = 0;
        var violations = new ConcurrentQueue<string>();
        var noLocal = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCache };
        var tasks = new List<Task>();
        var operations = 0L;

        // 8 keys x 4 tasks x 3,200 operations: 102,400 operations with L2 on
        for (var k = 0; k < Keys; k++)
        {
            for (var t = 0; t < 4; t++)
            {
                var (index, random) = (k, new Random((seed * 1000) + (k * 10) + t));
                tasks.Add(Task.Run(async () =>
                {
                    var (key, tags, history) = (Key(index), Tags(index), histories[index]);
                    for (var i = 0; i < 3_200; i++)
                    {
                        Interlocked.Increment(ref operations);
                        var op = random.Next(20);
                        if (op < 4)
                        {
                            var value = Interlocked.Increment(ref next);
                            await cache.SetAsync(key, value, tags: tags);
                            history.Written(value);
                        }
                        else if (op < 7)
                        {
                            var number = history.BeginInvalidation();
                            switch (op)
                            {
                                case 4:
                                    await cache.RemoveByTagAsync(tags[0]);
                                    break;
                                case 5:
                                    await cache.InvalidateAsync(key + "*");
                                    break;
                                default:
                                    await cache.RemoveAsync(key);
                                    break;
                            }

                            history.EndInvalidation(number);
                        }
                        else
                        {
                            var floor = history.CompletedInvalidations;
                            long produced = 0;
                            var value = await cache.GetOrCreateAsync(
                                key, _ => new ValueTask<long>(produced = Interlocked.Increment(ref next)), op >= 18 ? noLocal : null, tags);
                            if (produced == value)
                            {
                                history.Written(value);
                            }
                            else if (history.IsOlderThan(value, floor))
                            {
                                violations.Enqueue($"{key}: read {value}, complete before invalidation #{floor} began (flags {(op >= 18 ? "DisableLocalCache" : "none")})");
                            }
                        }
                    }
                }));
            }
        }

        await Task.WhenAll(tasks);
        Assert.True(operations >= 100_000);
        Assert.True(violations.IsEmpty, $"{violations.Count} stale reads:\n" + string.Join("\n", violations.Take(10)));
    }

    /// <summary>
    /// One instance writes and removes (one operation at a time, so the number of messages it has published is known),
    /// the other reads: a read that starts after the reader has applied the removal's message never returns a value
    /// written before the removal.
    /// </summary>
    [Fact]
    public async Task AnotherInstanceReturnsNoOlderValueOnceTheRemovalsMessageHasArrived()
    {
        await using var replicas = await Replicas.StartAsync(2);
        var (writer, reader) = (replicas[0], replicas[1]);
        var histories = Enumerable.Range(0, Keys).Select(_ => new KeyHistory()).ToArray();
        long next = 0;
        var violations = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var baseline = reader.RemoteInvalidationsApplied;

        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            var reads = 0;
            while (!stop.IsCancellationRequested)
            {
                var index = random.Next(Keys);
                var history = histories[index];
                var floor = history.CompletedInvalidations;
                long produced = 0;
                var value = await reader.GetOrCreateAsync(Key(index), _ => new ValueTask<long>(produced = Interlocked.Increment(ref next)));
                reads++;
                if (produced == value)
                {
                    history.Written(value);
                }
                else if (history.IsOlderThan(value, floor))
                {
                    violations.Enqueue($"{Key(index)}: read {value}, complete before removal #{floor} began");
                }
            }

            return reads;
        })).ToArray();

        var writes = new Random(7);
        var published = 0;
        for (var i = 0; i < 1_000; i++)
        {
            var index = writes.Next(Keys);
            var history = histories[index];
            if (writes.Next(3) == 0)
            {
                var number = history.BeginInvalidation();
                await writer.RemoveAsync(Key(index));
                published++;
                await Replicas.WaitForRemoteAsync(reader, baseline, published);
                history.EndInvalidation(number);
            }
            else
            {
                var value = Interlocked.Increment(ref next);
                await writer.SetAsync(Key(index), value);
                history.Written(value);
                published++;
            }
        }

        await stop.CancelAsync();
        var reads = (await Task.WhenAll(readers)).Sum();
        Assert.True(reads > 500, $"only {reads} reads were made");
        Assert.True(violations.IsEmpty, $"{violations.Count} stale reads:\n" + string.Join("\n", violations.Take(10)));
    }

    /// <summary>A flight that began before a removal is not joined by a read that begins after it.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AReadAfterARemovalDoesNotJoinAFlightThatBeganBeforeIt(bool withRedis)
    {
        await using var replicas = withRedis ? await Replicas.StartAsync(1) : null;
        using var local = withRedis ? null : TestCache.Create();
        var cache = replicas?[0] ?? local!.Cache;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var early = cache.GetOrCreateAsync("product:1", async _ =>
        {
            entered.TrySetResult();
            return await release.Task;
        }).AsTask();
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(5));

        local?.Time.Advance(TimeSpan.FromMilliseconds(1));
        await cache.RemoveAsync("product:1");
        local?.Time.Advance(TimeSpan.FromMilliseconds(1));
        var late = cache.GetOrCreateAsync("product:1", _ => new ValueTask<string>("after the removal")).AsTask();
        release.SetResult("before the removal");

        Assert.Equal("before the removal", await early);
        Assert.Equal("after the removal", await late);
        Assert.Equal("after the removal", await cache.GetOrCreateAsync("product:1", _ => new ValueTask<string>("origin called again")));
    }

    /// <summary>The same for a tag invalidation: the earlier flight's value carries the tag.</summary>
    [Fact]
    public async Task AReadAfterATagInvalidationDoesNotJoinAFlightThatBeganBeforeIt()
    {
        using var test = TestCache.Create();
        var cache = test.Cache;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        string[] tags = ["catalog"];
        var early = cache.GetOrCreateAsync("product:1", async _ =>
        {
            entered.TrySetResult();
            return await release.Task;
        }, tags: tags).AsTask();
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(5));

        test.Time.Advance(TimeSpan.FromMilliseconds(1));
        await cache.RemoveByTagAsync("catalog");
        test.Time.Advance(TimeSpan.FromMilliseconds(1));
        var late = cache.GetOrCreateAsync("product:1", _ => new ValueTask<string>("after"), tags: tags).AsTask();
        release.SetResult("before");

        Assert.Equal("before", await early);
        Assert.Equal("after", await late);
    }
}
