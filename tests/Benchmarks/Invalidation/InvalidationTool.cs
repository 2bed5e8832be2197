using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core;
using OptimizedCache.Testing;

namespace OptimizedCache.Benchmarks.Invalidation;

/// <summary>
/// Propagation delay of invalidations between two cache instances over one local redis-server (p50, p99 over N
/// sequential invalidations), then the recovery after a Redis restart: how long until the invalidations queued during
/// the outage are replayed and until L2 answers again.
/// </summary>
public sealed class InvalidationTool : IMeasuringTool
{
    /// <inheritdoc />
    public string Name => "invalidation";

    /// <inheritdoc />
    public string Description => "replica-to-replica invalidation delay (p50/p99) and recovery time after a Redis restart";

    /// <inheritdoc />
    public async Task<int> RunAsync(string[] args)
    {
        var count = 10_000;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--count" when i + 1 < args.Length:
                    count = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: invalidation [--count N]");
                    return 2;
            }
        }

        var executable = ServerProcess.Locate("redis-server", "redis-server");
        var port = ServerProcess.FreePort();
        var directory = Directory.CreateTempSubdirectory("oc-invalidation-").FullName;
        string[] serverArgs = ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--loglevel", "warning"];
        var log = new BoundedLog();
        var server = ServerProcess.Start(executable, serverArgs, log);
        try
        {
            await ServerProcess.WaitForPortAsync(port, server, log, TimeSpan.FromSeconds(15));
            var connection = $"127.0.0.1:{port},connectTimeout=1000";
            await using var a = Build(connection);
            await using var b = Build(connection);
            await a.Subscription.WaitAsync(TimeSpan.FromSeconds(10));
            await b.Subscription.WaitAsync(TimeSpan.FromSeconds(10));

            // propagation: from the start of A's RemoveAsync to B having applied it; and from A's return to B
            var total = new double[count];
            var afterReturn = new double[count];
            for (var i = 0; i < count; i++)
            {
                var before = b.RemoteInvalidationsApplied;
                var start = Stopwatch.GetTimestamp();
                await a.RemoveAsync("product:" + (i % 1000).ToString(CultureInfo.InvariantCulture));
                var returned = Stopwatch.GetTimestamp();
                var spins = new SpinWait();
                while (b.RemoteInvalidationsApplied == before)
                {
                    spins.SpinOnce(sleep1Threshold: -1);
                }

                var applied = Stopwatch.GetTimestamp();
                total[i] = Stopwatch.GetElapsedTime(start, applied).TotalMilliseconds;
                afterReturn[i] = Math.Max(0, Stopwatch.GetElapsedTime(returned, applied).TotalMilliseconds);
            }

            // recovery: an entry in L2, Redis killed, an invalidation queued, Redis restarted
            var l2Only = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite };
            await a.GetOrCreateAsync("customer:1", _ => ValueTask.FromResult("v1"), l2Only);
            await Task.Delay(200);
            ServerProcess.Kill(server);
            await Task.Delay(1000);
            await a.RemoveByTagAsync("catalog");
            var queued = a.Outbox.Count;
            var restarted = Stopwatch.GetTimestamp();
            server = ServerProcess.Start(executable, serverArgs, log);
            await ServerProcess.WaitForPortAsync(port, server, log, TimeSpan.FromSeconds(15));
            double? replayedMs = null, l2Ms = null;
            var readOnly = new HybridCacheEntryOptions { Flags = l2Only.Flags | HybridCacheEntryFlags.DisableUnderlyingData };
            while (Stopwatch.GetElapsedTime(restarted) < TimeSpan.FromSeconds(30) && (replayedMs is null || l2Ms is null))
            {
                if (replayedMs is null && a.Outbox.IsEmpty)
                {
                    replayedMs = Stopwatch.GetElapsedTime(restarted).TotalMilliseconds;
                }

                if (l2Ms is null && await a.GetOrCreateAsync("customer:1", _ => ValueTask.FromResult<string?>(null), readOnly) == "v1")
                {
                    l2Ms = Stopwatch.GetElapsedTime(restarted).TotalMilliseconds;
                }

                await Task.Delay(5);
            }

            Array.Sort(total);
            Array.Sort(afterReturn);
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"invalidation: {count:N0} sequential key removals, replica A → replica B over redis-server on loopback");
            Console.WriteLine("| what | p50 (ms) | p99 (ms) | max (ms) |");
            Console.WriteLine("| --- | --- | --- | --- |");
            Console.WriteLine(string.Create(inv, $"| A's call start → B applied | {Percentile(total, 0.50):0.000} | {Percentile(total, 0.99):0.000} | {total[^1]:0.000} |"));
            Console.WriteLine(string.Create(inv, $"| A's call returned → B applied | {Percentile(afterReturn, 0.50):0.000} | {Percentile(afterReturn, 0.99):0.000} | {afterReturn[^1]:0.000} |"));
            Console.WriteLine(string.Create(inv, $"recovery after a Redis restart: {queued} queued invalidation(s) replayed after {Format(replayedMs)}, L2 hit again after {Format(l2Ms)}"));
            return 0;
        }
        finally
        {
            ServerProcess.Kill(server);
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }

    private static OptimizedHybridCache Build(string connection)
    {
        var services = new ServiceCollection();
        services.AddOptimizedHybridCache(o =>
        {
            o.RedisConnectionString = connection;
            o.L1MaximumBytes = 64L << 20;
            o.Resilience.MaximumReconnectDelay = TimeSpan.FromMilliseconds(200);
        });
        // the provider lives as long as the process: the tool exits right after
        return services.BuildServiceProvider().GetRequiredService<OptimizedHybridCache>();
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string Format(double? ms) => ms is { } value ? value.ToString("0", CultureInfo.InvariantCulture) + " ms" : "(not within 30 s)";
}
