using Xunit.Abstractions;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>
/// L1's weighted size is the memory its entries really hold: the soak subtracts it from the working set, the memory
/// drill checks it against the budget, so an under-count would pass a leak off as the cache filling up.
/// </summary>
[Collection(HeapMeasurement.Name)]
public sealed class L1AccountingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(40)]
    [InlineData(3000)]
    public async Task TheL1SizeMatchesTheHeapItsEntriesHold(int nameLength)
    {
        using var test = TestCache.Create(o => o.L1MaximumBytes = 1L << 30);
        var name = new string('n', nameLength);
        await test.Cache.SetAsync("product:warm", new ProductRecord(-1, name), tags: ["product:warm", "catalog"]);
        await test.Cache.RemoveAsync("product:warm");
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var accountedBefore = test.Cache.GetMemoryUsage().UsedBytes;

        const int Entries = 20_000;
        for (var i = 0; i < Entries; i++)
        {
            await test.Cache.GetOrCreateAsync($"product:{i}", i, (id, _) => ValueTask.FromResult(new ProductRecord(id, name)), tags: [$"product:{i}", "catalog"]);
        }

        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        var usage = test.Cache.GetMemoryUsage();
        var accounted = usage.UsedBytes - accountedBefore;
        output.WriteLine($"{Entries} entries: heap +{held / 1024.0:0} KiB, accounted {accounted / 1024.0:0} KiB, ratio {(double)held / accounted:0.000}, per entry {held / Entries} vs {accounted / Entries} B");
        Assert.Equal(Entries, usage.Entries);
        Assert.InRange((double)held / accounted, 0.9, 1.1);
        GC.KeepAlive(test);
    }
}

/// <summary>Tests that measure the whole heap run alone: other tests' allocations would count as theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurement
{
    public const string Name = "heap measurement";
}
