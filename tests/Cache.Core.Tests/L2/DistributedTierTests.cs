using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>
/// Two or three cache instances over one real redis-server: what one writes the others read through L2, in an
/// envelope any of them can decode; bad entries are counted misses; tag times stored once invalidate everywhere.
/// </summary>
public sealed class DistributedTierTests : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private static readonly string Compressible = string.Concat(Enumerable.Range(0, 200).Select(i => $"{{\"id\":{i % 7},\"name\":\"product\",\"price\":10.5}},"));

    private readonly RedisFixture _redis;
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..10];
    private RawRedis _raw = null!;

    public DistributedTierTests(RedisFixture redis) => _redis = redis;

    public async Task InitializeAsync() => _raw = await RawRedis.ConnectAsync(_redis.Server.ConnectionString);

    public async Task DisposeAsync() => await _raw.DisposeAsync();

    [Fact]
    public async Task ASecondInstanceReadsWhatTheFirstWroteWithoutCallingItsFactory()
    {
        await using var a = await StartAsync();
        await using var b = await StartAsync();

        var written = await a.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult(new MutableProduct { Id = 1, Name = "written by A" }));
        await WaitForKeyAsync("product:1");
        var bFactoryCalls = 0;
        var read = await b.Cache.GetOrCreateAsync("product:1", _ =>
        {
            bFactoryCalls++;
            return ValueTask.FromResult(new MutableProduct { Id = 1, Name = "made by B" });
        });

        Assert.Equal(0, bFactoryCalls);
        Assert.Equal("written by A", read.Name);
        Assert.Equal(1, b.Cache.GetPerformanceStats().L2Hits);
        Assert.True(b.Cache.HasDistributedTier);
    }

    [Theory]
    [InlineData("product:caf\u00e9-\u65e5\u672c")]
    [InlineData(null)] // a key of more than 1 KiB of UTF-8: the writer's long path
    public async Task KeysWithNonAsciiTextOrOverAKibibyteOfUtf8AreReadBackThroughL2UnderTheirExactRedisKey(string? key)
    {
        key ??= "product:" + new string('\u00e9', 600);
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        await a.Cache.SetAsync(key, "written by A");
        await WaitForKeyAsync(key);

        var read = await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("made by B"));

        Assert.Equal("written by A", read);
        Assert.Equal(1, b.Cache.GetPerformanceStats().L2Hits);
        Assert.Equal(1, await _raw.ExistsAsync([RedisKey(key)]));
    }

    [Fact]
    public async Task TheStoredEnvelopeIsReadableAndCompressedOnlyWhenLargeAndCompressible()
    {
        await using var a = await StartAsync();
        await a.Cache.SetAsync("product:big", Compressible, tags: ["catalog:1"]);
        await a.Cache.SetAsync("product:small", "a small value");

        var (bigHeader, bigPayload, bigStored) = await ReadEnvelopeAsync("product:big");
        var (smallHeader, smallPayload, _) = await ReadEnvelopeAsync("product:small");

        Assert.NotEqual(CompressionCodecId.None, bigHeader.Codec);
        Assert.True(bigStored < Encoding.UTF8.GetByteCount(Compressible) / 2, $"stored {bigStored} bytes");
        Assert.Equal(Compressible, Encoding.UTF8.GetString(bigPayload));
        Assert.Equal("product", bigHeader.DataType);
        Assert.Equal(["catalog:1"], bigHeader.Tags);
        Assert.InRange(bigHeader.CreatedAtUnixMilliseconds, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.True(bigHeader.ExpiresAtUnixMilliseconds > bigHeader.CreatedAtUnixMilliseconds);
        Assert.Equal(CompressionCodecId.None, smallHeader.Codec);
        Assert.Equal("a small value", Encoding.UTF8.GetString(smallPayload));
    }

    [Fact]
    public async Task DisableCompressionStoresALargeCompressibleValueRaw()
    {
        await using var a = await StartAsync();
        await a.Cache.SetAsync("product:raw", Compressible, new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableCompression });

        var (header, payload, stored) = await ReadEnvelopeAsync("product:raw");

        Assert.Equal(CompressionCodecId.None, header.Codec);
        Assert.Equal(Encoding.UTF8.GetByteCount(Compressible), stored);
        Assert.Equal(Compressible, Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task CompressionBytesAreReportedByCodec()
    {
        await using var a = await StartAsync();
        using var metrics = new MetricRecorder(a.Cache);
        await a.Cache.SetAsync("product:m1", Compressible);
        await a.Cache.SetAsync("product:m2", "tiny");

        var codecs = metrics.TagSets(OptimizedCacheMetrics.CompressionInput).Select(t => (string)t.Single(x => x.Key == "codec").Value!).ToList();
        Assert.Contains("none", codecs);
        Assert.Contains(codecs, c => c is "lz4" or "deflate");
        Assert.True(metrics.Sum(OptimizedCacheMetrics.CompressionOutput) < metrics.Sum(OptimizedCacheMetrics.CompressionInput));
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("unknown_version")]
    [InlineData("unknown_codec")]
    [InlineData("decompression_failed")]
    public async Task AnUnreadableEntryIsACountedMissAndTheFactoryRuns(string reason)
    {
        await using var a = await StartAsync();
        await a.Cache.SetAsync("product:bad", "good value");
        var bytes = (await _raw.GetAsync(RedisKey("product:bad")))!;
        switch (reason)
        {
            case "corrupt":
                bytes = Encoding.ASCII.GetBytes("not an envelope at all");
                break;
            case "unknown_version":
                bytes[2] = 99;
                break;
            case "unknown_codec":
                bytes[3] = 200;
                break;
            default:
                bytes[3] = (byte)CompressionCodecId.Deflate; // raw bytes claimed to be deflated
                break;
        }

        await _raw.SetAsync(RedisKey("product:bad"), bytes, TimeSpan.FromMinutes(1));
        await using var b = await StartAsync();
        using var metrics = new MetricRecorder(b.Cache);

        var value = await b.Cache.GetOrCreateAsync("product:bad", _ => ValueTask.FromResult("from the factory"));

        Assert.Equal("from the factory", value);
        Assert.Equal(1, metrics.Sum(OptimizedCacheMetrics.L2Unreadable, ("reason", reason)));
        Assert.Equal(1, b.Cache.GetPerformanceStats().L2Misses);
        Assert.Equal(1, b.Cache.GetPerformanceStats().FactoryCalls);
    }

    [Fact]
    public async Task AnInvalidatedTagMakesOtherInstancesL2ReadsMissThroughTheStoredTagTime()
    {
        await using var a = await StartAsync(o => o.TagTimeRefreshInterval = TimeSpan.FromMilliseconds(100));
        await using var b = await StartAsync(o => o.TagTimeRefreshInterval = TimeSpan.FromMilliseconds(100));
        await a.Cache.SetAsync("product:7", "v1", tags: ["catalog:7"]);
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync("product:7", _ => ValueTask.FromResult("unexpected")));

        await a.Cache.RemoveByTagAsync("catalog:7");
        await Task.Delay(250); // past B's refresh interval: B must ask Redis again

        // the tag time is stored once, as Unix ms
        var stored = long.Parse(await _raw.GetStringAsync($"{_prefix}:tag:catalog:7") ?? "0", CultureInfo.InvariantCulture);
        Assert.InRange(stored, DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var bypassL1 = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite };
        Assert.Equal("fresh", await b.Cache.GetOrCreateAsync("product:7", _ => ValueTask.FromResult("fresh"), bypassL1));

        // what B learned from Redis also reached its L1 tag table: its L1 copy of v1 is invalid, and the read
        // finds the value B just wrote to L2
        Assert.Equal("fresh", await b.Cache.GetOrCreateAsync("product:7", _ => ValueTask.FromResult("unexpected"), tags: ["catalog:7"]));

        // and an instance that never saw the entry misses in L2 as well
        await using var c = await StartAsync();
        await a.Cache.SetAsync("product:8", "old", tags: ["catalog:8"]);
        await a.Cache.RemoveByTagAsync("catalog:8");
        Assert.Equal("new", await c.Cache.GetOrCreateAsync("product:8", _ => ValueTask.FromResult("new")));
    }

    [Fact]
    public async Task InvalidatingEverythingMakesOlderL2EntriesMissOnEveryInstance()
    {
        await using var a = await StartAsync();
        await a.Cache.SetAsync("product:w1", "old");
        await a.Cache.SetAsync("customer:w2", "old", tags: ["x"]);
        await a.Cache.RemoveByTagAsync("*");
        await Task.Delay(5); // entries created after the wildcard must be valid again (millisecond resolution)
        await a.Cache.SetAsync("product:w3", "after");

        await using var b = await StartAsync();
        Assert.Equal("new", await b.Cache.GetOrCreateAsync("product:w1", _ => ValueTask.FromResult("new")));
        Assert.Equal("new", await b.Cache.GetOrCreateAsync("customer:w2", _ => ValueTask.FromResult("new")));
        Assert.Equal("after", await b.Cache.GetOrCreateAsync("product:w3", _ => ValueTask.FromResult("unexpected")));
    }

    [Fact]
    public async Task ARemoteTagTimeAppliedLocallyInvalidatesL1AndL2Reads()
    {
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        await a.Cache.SetAsync("product:r1", "v1", tags: ["inventory:r"]);
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync("product:r1", _ => ValueTask.FromResult("unexpected"), tags: ["inventory:r"]));

        // what the invalidation bus does with a message from another replica, whose clock is a millisecond ahead (in the
        // write's own millisecond, which side of the tag time the entry falls on is up to clock rounding)
        b.Cache.ApplyRemoteTagInvalidation("inventory:r", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1);

        Assert.Equal("v2", await b.Cache.GetOrCreateAsync("product:r1", _ => ValueTask.FromResult("v2")));
    }

    [Fact]
    public async Task DisableDistributedCacheWriteKeepsTheValueOutOfRedis()
    {
        await using var a = await StartAsync();
        await a.Cache.GetOrCreateAsync("product:nw", _ => ValueTask.FromResult("local only"), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite });
        await a.Cache.SetAsync("product:nw2", "local only", new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite });
        await a.Cache.SetAsync("product:control", "stored"); // written after, awaited: Redis has seen the others by now

        Assert.Equal(1, await _raw.ExistsAsync([RedisKey("product:control")]));
        Assert.Equal(0, await _raw.ExistsAsync([RedisKey("product:nw"), RedisKey("product:nw2")]));
        Assert.Equal("local only", await a.Cache.GetOrCreateAsync("product:nw", _ => ValueTask.FromResult("unexpected")));
    }

    [Fact]
    public async Task DisableDistributedCacheReadIgnoresWhatRedisHolds()
    {
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        await a.Cache.SetAsync("product:nr", "in redis");

        var read = await b.Cache.GetOrCreateAsync("product:nr", _ => ValueTask.FromResult("from factory"), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheRead });

        Assert.Equal("from factory", read);
        Assert.Equal(0, b.Cache.GetPerformanceStats().L2Hits + b.Cache.GetPerformanceStats().L2Misses);
    }

    [Fact]
    public async Task TheRedisTtlFollowsTheAdaptiveFormulaAndAnExplicitExpirationIsTheUpperBound()
    {
        await using var a = await StartAsync();
        await a.Cache.SetAsync("product:ttl", "small");                                                       // default 5 min, adaptive in full
        await a.Cache.SetAsync("inventory:ttl", "small", new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(100) }); // shortened
        await a.Cache.SetAsync("customer:ttl", "small", new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(100) });  // capped

        // base × type × access (1 to 1.02 for a handful of accesses) × size (1.2 under 1 KiB) × the key's jitter
        static (double Min, double Max) Bounds(string key, double baseSeconds, double type)
        {
            var jitter = AdaptiveTtlCalculator.GetJitter(StableHash.Fnv1a64(key), 0.1);
            var ttl = baseSeconds * type * 1.2 * jitter;
            return (ttl - 5, ttl * 1.02);
        }

        var product = (await _raw.PTtlAsync(RedisKey("product:ttl")))!.Value.TotalSeconds;
        var (min, max) = Bounds("product:ttl", 300, 1.5);
        Assert.InRange(product, min, max);
        Assert.True(product > 300, "the adaptive TTL lengthens a default expiration for a product");

        var inventory = (await _raw.PTtlAsync(RedisKey("inventory:ttl")))!.Value.TotalSeconds;
        (min, max) = Bounds("inventory:ttl", 100, 0.5);
        Assert.InRange(inventory, min, max);

        var customer = (await _raw.PTtlAsync(RedisKey("customer:ttl")))!.Value.TotalSeconds;
        Assert.InRange(customer, 95, 100);
    }

    [Fact]
    public async Task L2MaximumExpirationCapsEveryEntry()
    {
        await using var a = await StartAsync(o => o.L2MaximumExpiration = TimeSpan.FromSeconds(30));
        await a.Cache.SetAsync("customer:cap", "v", new HybridCacheEntryOptions { Expiration = TimeSpan.FromHours(1) });

        Assert.InRange((await _raw.PTtlAsync(RedisKey("customer:cap")))!.Value.TotalSeconds, 25, 30);
    }

    [Fact]
    public async Task RemoveDeletesTheEntryFromRedis()
    {
        await using var a = await StartAsync();
        await a.Cache.SetAsync("product:gone", "v");
        Assert.Equal(1, await _raw.ExistsAsync([RedisKey("product:gone")]));

        await a.Cache.RemoveAsync("product:gone");

        Assert.Equal(0, await _raw.ExistsAsync([RedisKey("product:gone")]));
    }

    [Fact]
    public async Task TheHealthCheckReportsRedisLatencyAndAClosedCircuit()
    {
        await using var a = await StartAsync();
        var check = new OptimizedHybridCacheHealthCheck(a.Cache);

        var result = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());

        Assert.NotEqual(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, result.Status);
        Assert.Equal("closed", result.Data["circuit"]);
        Assert.Equal("Connected", result.Data["connection"]);
        Assert.True((double)result.Data["latency_ms"] >= 0);
    }

    private Task<L2Cache> StartAsync(Action<OptimizedHybridCacheOptions>? configure = null) =>
        L2Cache.StartAsync(_redis.Server.ConnectionString, _prefix, configure);

    private string RedisKey(string key) => $"{_prefix}:{{{RedisDistributedTier.BucketOf(key):x2}}}:{key}";

    private async Task WaitForKeyAsync(string key)
    {
        for (var i = 0; i < 250 && await _raw.ExistsAsync([RedisKey(key)]) == 0; i++)
        {
            await Task.Delay(20);
        }
    }

    private async Task<(CacheEnvelopeHeader Header, byte[] Payload, int StoredLength)> ReadEnvelopeAsync(string key)
    {
        var bytes = await _raw.GetAsync(RedisKey(key));
        Assert.NotNull(bytes);
        Assert.Equal(EnvelopeReadResult.Ok, CacheValue.TryRead(bytes, out var header, out Range range));
        var registry = CompressionCodecRegistry.CreateDefault(1 << 20, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var writer = new ArrayBufferWriter<byte>();
        Assert.Equal(DecompressionStatus.Ok, registry.Decompress(header.Codec, bytes.AsSpan(range), header.UncompressedLength, writer));
        return (header, writer.WrittenSpan.ToArray(), range.GetOffsetAndLength(bytes.Length).Length);
    }
}
