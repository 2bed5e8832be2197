using System.Collections.Concurrent;
using System.Diagnostics;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

/// <summary>
/// Writers update an origin (the application's data source) and invalidate through the dependency rules on a random
/// replica; readers on every replica read concurrently. Once a write's invalidation has returned and the propagation
/// bound has passed, no reader may see an older version. Fixed seed, fixed number of writes.
/// </summary>
public sealed class ConsistencyTests
{
    private const int Keys = 16;
    private const int WritesPerWriter = 150;
    private static readonly TimeSpan PropagationBound = TimeSpan.FromMilliseconds(250);

    // after Redis returns: reconnect (≤ 200 ms here), resubscribe, flush, replay; generous for a loaded machine
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(3);

    [Fact]
    public Task NoReaderSeesAnOlderVersionOnceAnInvalidationHasPropagated() => RunAsync(restartRedis: false);

    [Fact]
    public Task NoReaderSeesAnOlderVersionAcrossARedisRestartOnceItHasRecovered() => RunAsync(restartRedis: true);

    private static async Task RunAsync(bool restartRedis)
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
                await replicas[random.Next(3)].InvalidateDependentsAsync("product", key.ToString(System.Globalization.CultureInfo.InvariantCulture));
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
                    seen = await cache.GetOrCreateAsync(
                        "product:" + key, (origin, key), static (s, _) => ValueTask.FromResult(s.origin.GetValueOrDefault(s.key)), tags: ["product:" + key]);
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
                    violations.Enqueue($"product:{key} read {seen}, but version {required} had been invalidated and propagated");
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
        Assert.Empty(violations);
        Assert.All(replicas.Caches, c => Assert.True(c.Outbox.IsEmpty));
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
