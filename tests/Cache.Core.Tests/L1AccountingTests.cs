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
        const int Entries = 20_000;

        // The heap is the whole process's: garbage of earlier tests that something still held at the first reading
        // and lets go during the fill would read as a smaller L1. So the entries are weighed twice, as the heap grows
        // by filling L1 and as it shrinks by clearing it; an attempt counts only when both agree (nothing else moved).
        var attempts = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var accountedBefore = test.Cache.GetMemoryUsage().UsedBytes;
            for (var i = 0; i < Entries; i++)
            {
                await test.Cache.GetOrCreateAsync($"product:{i}", i, (id, _) => ValueTask.FromResult(new ProductRecord(id, name)), tags: [$"product:{i}", "catalog"]);
            }

            var filled = GC.GetTotalMemory(forceFullCollection: true);
            var usage = test.Cache.GetMemoryUsage();
            var accounted = usage.UsedBytes - accountedBefore;
            Assert.Equal(Entries, usage.Entries);
            test.Cache.L1.Clear();
            var cleared = GC.GetTotalMemory(forceFullCollection: true);
            var grew = filled - before;
            var shrank = filled - cleared;
            attempts.Add($"grew {grew / 1024.0:0} KiB, shrank {shrank / 1024.0:0} KiB, accounted {accounted / 1024.0:0} KiB");
            output.WriteLine($"{Entries} entries: heap +{grew / 1024.0:0} KiB / -{shrank / 1024.0:0} KiB, accounted {accounted / 1024.0:0} KiB, ratio {(double)shrank / accounted:0.000}, per entry {shrank / Entries} vs {accounted / Entries} B");
            if (Math.Abs(grew - shrank) <= 0.05 * shrank)
            {
                Assert.InRange((double)shrank / accounted, 0.9, 1.1);
                GC.KeepAlive(test);
                return;
            }
        }

        Assert.Fail($"the heap never held still around the fill: {string.Join("; ", attempts)}");
    }
}

/// <summary>Tests that measure the whole heap run alone: other tests' allocations would count as theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurement
{
    public const string Name = "heap measurement";
}
