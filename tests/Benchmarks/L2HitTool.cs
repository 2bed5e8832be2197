using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Benchmarks.Redis;
using OptimizedCache.Benchmarks.Verification;
using OptimizedCache.Cache.Core;
using OptimizedCache.Cache.Core.Redis;

namespace OptimizedCache.Benchmarks;

/// <summary>
/// The L2 hit path against the Redis client's raw GET, in one run on one redis-server: 64 concurrent callers read
/// 1 KiB values through <c>GetOrCreateAsync</c> with L1 disabled by flags (GET, envelope decode, tag check,
/// deserialize) and through <see cref="RedisClient.GetAsync"/> directly. Target: the cache at least 70% of the raw
/// GET rate. Each round runs both phases back to back, in alternating order (raw then cache, cache then raw), so that
/// machine noise and drift fall on both; the table gives the median of the rounds' ratios and their range.
/// </summary>
/// <remarks><c>dotnet run -c Release --project tests/Benchmarks -- l2-hit [--seconds 4] [--rounds 6]</c></remarks>
public sealed class L2HitTool : IMeasuringTool
{
    private const int Callers = 64;
    private const int KeysPerCaller = 64;
    private const int ValueSize = 1024;

    private static readonly HybridCacheEntryOptions L1Disabled = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite,
        Expiration = TimeSpan.FromHours(1),
    };

    /// <inheritdoc />
    public string Name => "l2-hit";

    /// <inheritdoc />
    public string Description => "OptimizedHybridCache L2 hits (L1 off, 1 KiB, 64 callers) vs raw Redis GET, one run";

    /// <inheritdoc />
    public async Task<int> RunAsync(string[] args)
    {
        var seconds = 4.0;
        var rounds = 6;
        var only = "";
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--seconds" && i + 1 < args.Length)
            {
                seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--rounds" && i + 1 < args.Length)
            {
                rounds = Math.Max(1, int.Parse(args[++i], CultureInfo.InvariantCulture));
            }
            else if (args[i] == "--only" && i + 1 < args.Length && args[i + 1] is "raw" or "cache")
            {
                only = args[++i];
            }
            else
            {
                Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: l2-hit [--seconds N] [--rounds N] [--only raw|cache]");
                return 2;
            }
        }

        await using var server = await LocalRedisServer.StartAsync();
        await using var raw = await RedisClient.ConnectAsync(server.ConnectionString);
        var services = new ServiceCollection();
        services.AddOptimizedHybridCache(o =>
        {
            o.RedisConnectionString = server.ConnectionString;
            o.L1MaximumBytes = 64L << 20;
        });
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<OptimizedHybridCache>();
        for (var wait = 0; cache.Redis?.IsAvailable != true && wait < 500; wait++)
        {
            await Task.Delay(10);
        }

        var value = new byte[ValueSize];
        Random.Shared.NextBytes(value);
        for (var k = 0; k < Callers * KeysPerCaller; k++)
        {
            await raw.SetAsync($"raw:{k}", value);
            await cache.SetAsync($"product:{k}", value, L1Disabled);
        }

        Console.WriteLine($"l2-hit: {Callers} callers, 1 KiB values, {seconds:0.#} s per phase, {rounds} rounds, redis-server on {server.ConnectionString}");
        var duration = TimeSpan.FromSeconds(seconds);
        await RunAsync(k => RawAsync(raw, k), TimeSpan.FromSeconds(3), "warm-up, raw GET"); // warm-up of both paths
        await RunAsync(k => CacheAsync(cache, k), TimeSpan.FromSeconds(3), "warm-up, L2 hit");
        if (only.Length > 0)
        {
            // one path alone (for a profiler attached now): no comparison is printed
            Console.WriteLine($"measuring {only} only (pid {Environment.ProcessId})");
            await RunAsync(only == "raw" ? k => RawAsync(raw, k) : k => CacheAsync(cache, k), duration, only);
            return 0;
        }

        var rawRates = new List<double>();
        var cacheRates = new List<double>();
        var ratios = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            Console.WriteLine($"round {round + 1} of {rounds}:");
            double rawRate, cacheRate;
            if (round % 2 == 0)
            {
                rawRate = await RunAsync(k => RawAsync(raw, k), duration, "raw GET");
                cacheRate = await RunAsync(k => CacheAsync(cache, k), duration, "L2 hit");
            }
            else
            {
                cacheRate = await RunAsync(k => CacheAsync(cache, k), duration, "L2 hit");
                rawRate = await RunAsync(k => RawAsync(raw, k), duration, "raw GET");
            }

            rawRates.Add(rawRate);
            cacheRates.Add(cacheRate);
            ratios.Add(cacheRate / rawRate);
        }

        var stats = cache.GetPerformanceStats();
        Console.WriteLine();
        Console.WriteLine($"Medians of {rounds} rounds; the ratio is taken within each round, then the median of the ratios.");
        Console.WriteLine();
        Console.WriteLine("| what | ops/s | vs raw GET | target |");
        Console.WriteLine("| --- | --- | --- | --- |");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| `RedisClient.GetAsync`, 1 KiB, {Callers} callers | {Statistics.Median(rawRates):N0} | 100% | |"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| `GetOrCreateAsync` L2 hit (L1 off by flags), 1 KiB, {Callers} callers | {Statistics.Median(cacheRates):N0} | {Statistics.Median(ratios):P0} (rounds {ratios.Min():P0} to {ratios.Max():P0}) | >= 70% |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(L2 hits {stats.L2Hits:N0}, L2 misses {stats.L2Misses:N0}, factory calls {stats.FactoryCalls:N0})"));
        return stats.L2Misses == 0 ? 0 : 1;

        static async Task<int> RawAsync(RedisClient client, int key)
        {
            var bytes = await client.GetAsync($"raw:{key}");
            return bytes?.Length ?? throw new InvalidOperationException("raw GET missed");
        }

        static async Task<int> CacheAsync(OptimizedHybridCache cache, int key)
        {
            var bytes = await cache.GetOrCreateAsync<byte[]>(
                $"product:{key}",
                _ => throw new InvalidOperationException("L2 missed: the factory was called"),
                L1Disabled);
            return bytes.Length;
        }
    }

    // Each caller reads its own keys, so no two callers ever share a flight (no coalescing in the cache's favour).
    private static async Task<double> RunAsync(Func<int, Task<int>> operation, TimeSpan duration, string label)
    {
        long operations = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes();
        var collections = GC.CollectionCount(0);
        var paused = GC.GetTotalPauseDuration();
        var started = Stopwatch.GetTimestamp();
        var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            long mine = 0;
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                await operation((c * KeysPerCaller) + (int)(mine % KeysPerCaller)).ConfigureAwait(false);
                mine++;
            }

            Interlocked.Add(ref operations, mine);
        })).ToArray();
        await Task.WhenAll(callers);
        var rate = operations / Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuPerOp = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / operations;
        var bytesPerOp = (GC.GetTotalAllocatedBytes() - allocated) / (double)operations;
        var elapsed = Stopwatch.GetElapsedTime(started);
        var pausedShare = (GC.GetTotalPauseDuration() - paused) / elapsed;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {label,-17} {rate,10:N0} ops/s, {cpuPerOp:0.00} µs CPU and {bytesPerOp:N0} B allocated per operation (this process), {GC.CollectionCount(0) - collections} GCs pausing {pausedShare:P1} of the time"));
        return rate;
    }
}
