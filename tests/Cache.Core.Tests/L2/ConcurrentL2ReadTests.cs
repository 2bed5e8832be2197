using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>
/// Concurrent L2 reads (coalesced into MGETs, joined in flights) hand every caller an exact value of its own: one
/// caller's value never lies in a buffer that a later read or another caller changes.
/// </summary>
public sealed class ConcurrentL2ReadTests : IClassFixture<RedisFixture>
{
    private static readonly HybridCacheEntryOptions L2Only = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite,
        Expiration = TimeSpan.FromMinutes(5),
    };

    private readonly RedisFixture _redis;
    private readonly string _prefix = "p" + Guid.NewGuid().ToString("N")[..10];

    public ConcurrentL2ReadTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task ByteArraysReadByConcurrentCallersAreExactIndependentCopiesThatLaterReadsDoNotTouch()
    {
        await using var writer = await L2Cache.StartAsync(_redis.Server.ConnectionString, _prefix);
        await using var reader = await L2Cache.StartAsync(_redis.Server.ConnectionString, _prefix);
        const int Keys = 40;
        for (var k = 0; k < Keys; k++)
        {
            await writer.Cache.SetAsync($"product:{k}", Value(k), L2Only);
        }

        var results = new List<(int Key, byte[] Value)>();
        for (var round = 0; round < 10; round++)
        {
            // many callers of each key at once (joined callers of one flight among them), keys interleaved so that
            // the pool hands the same arrays from one read to the next
            var reads = Enumerable.Range(0, Keys * 8).Select(async i =>
            {
                var key = i % Keys;
                var value = await reader.Cache.GetOrCreateAsync<byte[]>(
                    $"product:{key}", _ => throw new InvalidOperationException("L2 missed"), L2Only);
                return (key, value);
            }).ToArray();
            results.AddRange(await Task.WhenAll(reads));
        }

        // one caller scribbles over its copy: no other caller's value may change
        Array.Fill(results[0].Value, (byte)0xEE);
        foreach (var (key, value) in results.Skip(1))
        {
            Assert.Equal(Value(key), value);
        }

        Assert.Equal(results.Count - 1, results.Skip(1).Select(r => r.Value).Distinct(ReferenceEqualityComparer.Instance).Count());
        var stats = reader.Cache.GetPerformanceStats();
        Assert.Equal(0, stats.FactoryCalls);
        Assert.InRange(stats.L2Hits, Keys * 10, results.Count); // callers of one flight share its hit
        Assert.Equal(0, reader.Cache.FlightCount);
    }

    [Fact]
    public async Task ObjectsAndStringsReadThroughL2KeepTheirContentAfterThePoolIsReused()
    {
        await using var writer = await L2Cache.StartAsync(_redis.Server.ConnectionString, _prefix);
        await using var reader = await L2Cache.StartAsync(_redis.Server.ConnectionString, _prefix);
        for (var k = 0; k < 20; k++)
        {
            await writer.Cache.SetAsync($"product:{k}", new MutableProduct { Id = k, Name = new string((char)('a' + k), 500 + k) }, L2Only);
            await writer.Cache.SetAsync($"catalog:{k}", new string((char)('A' + k), 700 + k), L2Only);
        }

        var products = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => reader.Cache.GetOrCreateAsync<MutableProduct>(
            $"product:{i % 20}", _ => throw new InvalidOperationException("L2 missed"), L2Only).AsTask()));
        var texts = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => reader.Cache.GetOrCreateAsync<string>(
            $"catalog:{i % 20}", _ => throw new InvalidOperationException("L2 missed"), L2Only).AsTask()));

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(i % 20, products[i].Id);
            Assert.Equal(new string((char)('a' + (i % 20)), 500 + (i % 20)), products[i].Name);
            Assert.Equal(new string((char)('A' + (i % 20)), 700 + (i % 20)), texts[i]);
        }

        Assert.Equal(200, products.Distinct(ReferenceEqualityComparer.Instance).Count()); // a fresh copy per caller (mutable type)
    }

    private static byte[] Value(int key)
    {
        var value = new byte[900 + key];
        new Random(key).NextBytes(value);
        return value;
    }
}
