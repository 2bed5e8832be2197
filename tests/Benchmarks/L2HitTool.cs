using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OptimizedCache.Benchmarks.Redis;
using OptimizedCache.Benchmarks.Verification;
using OptimizedCache.Cache.Core;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace OptimizedCache.Benchmarks;

/// <summary>
/// The L2 hit path beside the raw GET of the same StackExchange.Redis multiplexer and beside two peers over it, in
/// one run on one redis-server (or a cluster): 64 concurrent callers read 1 KiB values with L1 disabled by flags —
/// through this cache's <c>GetOrCreateAsync</c> (GET, envelope decode, tag check, deserialize), through
/// <see cref="IDatabase.StringGetAsync(RedisKey, CommandFlags)"/> directly, through Microsoft's HybridCache over
/// <c>RedisCache</c>, and through FusionCache with the same <c>RedisCache</c> as its distributed cache. Targets: the
/// cache at least 70% of the raw GET rate, and at least 2× each peer's. Each round runs every path back to back, in
/// an order that rotates between rounds, so that machine noise and drift fall on all; the table gives the median of
/// the rounds' rates and of the within-round ratios.
/// </summary>
/// <remarks><c>dotnet run -c Release --project tests/Benchmarks -- l2-hit [--seconds 4] [--rounds 6] [--cluster] [--only raw|cache|microsoft|fusion]</c></remarks>
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

    private static readonly FusionCacheEntryOptions FusionL1Disabled = new()
    {
        Duration = TimeSpan.FromHours(1),
        SkipMemoryCacheRead = true,
        SkipMemoryCacheWrite = true,
    };

    private static readonly string[] Paths = ["raw", "cache", "microsoft", "fusion"];

    /// <inheritdoc />
    public string Name => "l2-hit";

    /// <inheritdoc />
    public string Description => "L2 hits (L1 off, 1 KiB, 64 callers): this cache vs raw GET, Microsoft HybridCache and FusionCache, one run";

    /// <inheritdoc />
    public async Task<int> RunAsync(string[] args)
    {
        var seconds = 4.0;
        var rounds = 6;
        var only = "";
        var cluster = false;
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
            else if (args[i] == "--only" && i + 1 < args.Length && Paths.Contains(args[i + 1]))
            {
                only = args[++i];
            }
            else if (args[i] == "--cluster")
            {
                cluster = true;
            }
            else
            {
                Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: l2-hit [--seconds N] [--rounds N] [--cluster] [--only raw|cache|microsoft|fusion]");
                return 2;
            }
        }

        await using var servers = cluster ? (IAsyncDisposable)await Testing.RedisCluster.StartAsync(3) : await LocalRedisServer.StartAsync();
        var connectionString = servers is Testing.RedisCluster c ? c.ConnectionString : ((LocalRedisServer)servers).ConnectionString;
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var raw = multiplexer.GetDatabase();

        var services = new ServiceCollection();
        services.AddOptimizedHybridCache(o =>
        {
            o.ConnectionMultiplexerFactory = _ => multiplexer;
            o.L1MaximumBytes = 64L << 20;
        });
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<OptimizedHybridCache>();
        for (var wait = 0; cache.Redis?.IsAvailable != true && wait < 500; wait++)
        {
            await Task.Delay(10);
        }

        // the peers, over the same multiplexer
        var redisCacheOptions = new RedisCacheOptions { ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(multiplexer), InstanceName = "peer:" };
        var peerServices = new ServiceCollection();
        peerServices.AddStackExchangeRedisCache(o =>
        {
            o.ConnectionMultiplexerFactory = redisCacheOptions.ConnectionMultiplexerFactory;
            o.InstanceName = "ms:";
        });
        peerServices.AddHybridCache();
        await using var peerProvider = peerServices.BuildServiceProvider();
        var microsoft = peerProvider.GetRequiredService<HybridCache>();
        using var fusionDistributed = new RedisCache(Options.Create(redisCacheOptions));
        using var fusion = new FusionCache(new FusionCacheOptions { CacheName = "fusion" });
        fusion.SetupDistributedCache(fusionDistributed, new FusionCacheSystemTextJsonSerializer()); // its documented default

        var value = new byte[ValueSize];
        Random.Shared.NextBytes(value);
        for (var k = 0; k < Callers * KeysPerCaller; k++)
        {
            await raw.StringSetAsync($"raw:{k}", value);
            await cache.SetAsync($"product:{k}", value, L1Disabled);
            await microsoft.SetAsync($"product:{k}", value, L1Disabled);
            await fusion.SetAsync($"product:{k}", value, FusionL1Disabled);
        }

        Func<int, Task<int>> Path(string name) => name switch
        {
            "raw" => k => RawAsync(raw, k),
            "cache" => k => HybridAsync(cache, k),
            "microsoft" => k => HybridAsync(microsoft, k),
            _ => k => FusionAsync(fusion, k),
        };

        Console.WriteLine($"l2-hit: {Callers} callers, 1 KiB values, {seconds:0.#} s per phase, {rounds} rounds, {(cluster ? "a 3-primary redis cluster" : "redis-server")} on {connectionString}");
        var duration = TimeSpan.FromSeconds(seconds);
        foreach (var path in Paths)
        {
            await RunAsync(Path(path), TimeSpan.FromSeconds(2), "warm-up, " + path);
        }

        if (only.Length > 0)
        {
            // one path alone (for a profiler attached now): no comparison is printed
            Console.WriteLine($"measuring {only} only (pid {Environment.ProcessId})");
            await RunAsync(Path(only), duration, only);
            return 0;
        }

        var rates = Paths.ToDictionary(p => p, _ => new List<Measured>());
        var ratios = Paths.ToDictionary(p => p, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            Console.WriteLine($"round {round + 1} of {rounds}:");
            var measured = new Dictionary<string, Measured>();
            for (var i = 0; i < Paths.Length; i++)
            {
                var path = Paths[(i + round) % Paths.Length];
                measured[path] = await RunAsync(Path(path), duration, path);
            }

            foreach (var path in Paths)
            {
                rates[path].Add(measured[path]);
                ratios[path].Add(measured["cache"].Rate / measured[path].Rate);
            }
        }

        var stats = cache.GetPerformanceStats();
        var inv = CultureInfo.InvariantCulture;
        string Rate(string path) => Statistics.Median(rates[path].Select(r => r.Rate)).ToString("N0", inv);
        string Bytes(string path) => Statistics.Median(rates[path].Select(r => r.BytesPerOperation)).ToString("N0", inv);
        string Ratio(string path) => string.Create(inv, $"{Statistics.Median(ratios[path]):0.00}× (rounds {ratios[path].Min():0.00}× to {ratios[path].Max():0.00}×)");
        Console.WriteLine();
        Console.WriteLine($"Medians of {rounds} rounds; each ratio (this cache's rate over the path's) is taken within its round, then the median.");
        Console.WriteLine();
        Console.WriteLine("| path (1 KiB, 64 callers, L1 off) | ops/s | B allocated per op | this cache vs it | target |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        Console.WriteLine($"| `IDatabase.StringGetAsync` (raw GET, same multiplexer) | {Rate("raw")} | {Bytes("raw")} | {string.Create(inv, $"{Statistics.Median(ratios["raw"]):P0}")} of it | >= 70% |");
        Console.WriteLine($"| OptimizedHybridCache `GetOrCreateAsync` L2 hit | {Rate("cache")} | {Bytes("cache")} | | |");
        Console.WriteLine($"| Microsoft HybridCache 11.0.0 over RedisCache | {Rate("microsoft")} | {Bytes("microsoft")} | {Ratio("microsoft")} | >= 2× |");
        Console.WriteLine($"| FusionCache 2.9.0 over RedisCache | {Rate("fusion")} | {Bytes("fusion")} | {Ratio("fusion")} | >= 2× |");
        Console.WriteLine(string.Create(inv, $"(this cache: L2 hits {stats.L2Hits:N0}, L2 misses {stats.L2Misses:N0}, factory calls {stats.FactoryCalls:N0})"));
        return stats.L2Misses == 0 ? 0 : 1;

        static async Task<int> RawAsync(IDatabase database, int key)
        {
            var bytes = (byte[]?)await database.StringGetAsync($"raw:{key}");
            return bytes?.Length ?? throw new InvalidOperationException("raw GET missed");
        }

        static async Task<int> HybridAsync(HybridCache cache, int key)
        {
            var bytes = await cache.GetOrCreateAsync<byte[]>(
                $"product:{key}",
                _ => throw new InvalidOperationException("L2 missed: the factory was called"),
                L1Disabled);
            return bytes.Length;
        }

        static async Task<int> FusionAsync(FusionCache cache, int key)
        {
            var bytes = await cache.GetOrSetAsync<byte[]>(
                $"product:{key}",
                (_, _) => throw new InvalidOperationException("L2 missed: the factory was called"),
                FusionL1Disabled);
            return bytes.Length;
        }
    }

    private sealed record Measured(double Rate, double BytesPerOperation);

    // Each caller reads its own keys, so no two callers ever share a flight (no coalescing in the cache's favour).
    private static async Task<Measured> RunAsync(Func<int, Task<int>> operation, TimeSpan duration, string label)
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
        return new Measured(rate, bytesPerOp);
    }
}
