using System.Collections.Concurrent;
using System.Diagnostics;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

/// <summary>
/// Writers update an origin (the application's data source) and invalidate on a random replica, through the
/// dependency rules (tags), by key or by pattern; readers on every replica read concurrently, with factories that
/// take a few milliseconds in the key and pattern runs so that reads overlap removals on other replicas. Once a write's invalidation has returned and the propagation
/// bound has passed, no reader may see an older version. Fixed seed, fixed number of writes.
/// </summary>
public sealed class ConsistencyTests
{
    private const int Keys = 16;
    private const int WritesPerWriter = 150;
    private static readonly TimeSpan PropagationBound = TimeSpan.FromMilliseconds(250);

    // after Redis returns: reconnect (≤ 200 ms here), resubscribe, flush, replay; generous for a loaded machine
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(3);

    public enum Invalidation
    {
        Dependency,
        Key,
        Pattern,
    }

    [Fact]
    public Task NoReaderSeesAnOlderVersionOnceAnInvalidationHasPropagated() => RunAsync(restartRedis: false);

    [Fact]
    public Task NoReaderSeesAnOlderVersionAcrossARedisRestartOnceItHasRecovered() => RunAsync(restartRedis: true);

    [Theory]
    [InlineData(Invalidation.Key)]
    [InlineData(Invalidation.Pattern)]
    public Task NoReaderSeesAnOlderVersionOnceARemovalByKeyOrPatternHasPropagated(Invalidation by) => RunAsync(restartRedis: false, by);

    private static async Task RunAsync(bool restartRedis, Invalidation by = Invalidation.Dependency)
    {
        await using var replicas = await Replicas.StartAsync(3, o => o.DependencyRules["product"] = ["product:{id}"]);
        var origin = new ConcurrentDictionary<int, int>();
        // per key: (version, when its invalidation returned, as a Stopwatch timestamp)
        var committed = Enumerable.Range(0, Keys).Select(_ => new List<(int Version, long VisibleFrom)>()).ToArray();
        long outageStart = long.MaxValue, recoveredBy = long.MaxValue;
        var violations = new ConcurrentQueue<string>();
        var failures = new ConcurrentQueue<Exception>();
        var reads = 0L;
        using var stop = new CancellationTokenSource();

        async Task Writer(int seed)
        {
            var random = new Random(seed);
            for (var i = 0; i < WritesPerWriter; i++)
            {
                var key = random.Next(Keys);
                var version = origin.AddOrUpdate(key, 1, (_, v) => v + 1);
                var id = key.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var replica = replicas[random.Next(3)];
                switch (by)
                {
                    case Invalidation.Key:
                        await replica.RemoveAsync("product:" + id);
                        break;
                    case Invalidation.Pattern:
                        // product:1* also drops product:10..15: wider than needed, which is allowed
                        await replica.InvalidateAsync("product:" + id + "*");
                        break;
                    default:
                        await replica.InvalidateDependentsAsync("product", id);
                        break;
                }

                var now = Stopwatch.GetTimestamp();
                lock (committed[key])
                {
                    committed[key].Add((version, now));
                }

                await Task.Delay(random.Next(0, 4));
            }
        }

        async Task Reader(OptimizedHybridCache cache, int seed)
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                var key = random.Next(Keys);
                var started = Stopwatch.GetTimestamp();
                int seen;
                try
                {
                    if (by == Invalidation.Dependency)
                    {
                        seen = await cache.GetOrCreateAsync(
                            "product:" + key, (origin, key), static (s, _) => ValueTask.FromResult(s.origin.GetValueOrDefault(s.key)), tags: ["product:" + key]);
                    }
                    else
                    {
                        // no tags: only the removal itself can keep an old value out of L2; the factory reads the
                        // origin first, then takes a while, as a database call would
                        var delay = random.Next(0, 4);
                        seen = await cache.GetOrCreateAsync("product:" + key, (origin, key, delay), static async (s, _) =>
                        {
                            var value = s.origin.GetValueOrDefault(s.key);
                            await Task.Delay(s.delay);
                            return value;
                        });
                    }
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex);
                    continue;
                }

                Interlocked.Increment(ref reads);
                var required = 0;
                lock (committed[key])
                {
                    foreach (var (version, returnedAt) in committed[key])
                    {
                        // a write that may have overlapped the outage is only owed after recovery
                        var visibleFrom = returnedAt + Ticks(PropagationBound) >= Volatile.Read(ref outageStart)
                            ? Math.Max(returnedAt, Volatile.Read(ref recoveredBy))
                            : returnedAt + Ticks(PropagationBound);
                        if (visibleFrom <= started)
                        {
                            required = Math.Max(required, version);
                        }
                    }
                }

                if (seen < required)
                {
                    violations.Enqueue($"product:{key} read {seen}, but version {required} had been invalidated and propagated (replica {replicas.Caches.IndexOf(cache)}, in L1: {cache.L1.TryPeek("product:" + key, out _)})");
                }

                await Task.Yield();
            }
        }

        var readers = replicas.Caches.SelectMany((c, i) => new[] { Reader(c, 100 + i), Reader(c, 200 + i) }).ToArray();
        var writers = new[] { Writer(1), Writer(2) };
        if (restartRedis)
        {
            await Task.Delay(400);
            Volatile.Write(ref outageStart, Stopwatch.GetTimestamp());
            replicas.Server.Kill();
            await Task.Delay(700);
            await replicas.Server.StartAsync();
            Volatile.Write(ref recoveredBy, Stopwatch.GetTimestamp() + Ticks(RecoveryBound));
        }

        await Task.WhenAll(writers);
        if (restartRedis)
        {
            // keep reading until the recovery bound has passed, so reads after recovery are checked too
            while (Stopwatch.GetTimestamp() < Volatile.Read(ref recoveredBy) + Ticks(PropagationBound))
            {
                await Task.Delay(50);
            }
        }
        else
        {
            await Task.Delay(PropagationBound * 2);
        }

        stop.Cancel();
        await Task.WhenAll(readers);

        Assert.Empty(failures);
        Assert.True(reads > 1000, $"only {reads} reads");
        Assert.True(violations.IsEmpty, string.Join("\n", violations.Distinct().Take(10)));
        Assert.All(replicas.Caches, c => Assert.True(c.Outbox.IsEmpty));
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
