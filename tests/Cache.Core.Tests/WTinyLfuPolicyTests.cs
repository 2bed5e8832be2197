using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>The eviction policy on its own: admission by frequency, weights, budget.</summary>
public sealed class WTinyLfuPolicyTests
{
    [Fact]
    public void FrequentKeysSurviveAScanOfOneTimeKeys()
    {
        var (policy, nodes, evicted) = Create(capacity: 100);
        for (var round = 0; round < 10; round++)
        {
            for (var key = 0; key < 50; key++)
            {
                Access(policy, nodes, evicted, key);
            }
        }

        for (var key = 1000; key < 11000; key++)
        {
            Access(policy, nodes, evicted, key);
        }

        var survivors = Enumerable.Range(0, 50).Count(k => nodes.TryGetValue(k, out var n) && n.Queue != PolicyQueue.None);
        Assert.True(survivors >= 45, $"only {survivors} of 50 hot keys survived the scan");
        Assert.True(policy.WeightedSize <= policy.Capacity);
    }

    [Fact]
    public void TheWeightedSizeNeverExceedsTheCapacity()
    {
        var (policy, nodes, evicted) = Create(capacity: 10_000);
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            Access(policy, nodes, evicted, random.Next(2000), weight: random.Next(1, 500));
            Assert.True(policy.WeightedSize <= policy.Capacity, $"size {policy.WeightedSize} over capacity at step {i}");
        }
    }

    [Fact]
    public void ANodeHeavierThanTheCapacityIsNeverAdmitted()
    {
        var (policy, nodes, evicted) = Create(capacity: 1000);
        Access(policy, nodes, evicted, 1, weight: 10);

        Access(policy, nodes, evicted, 2, weight: 1001);

        Assert.Equal(PolicyQueue.None, nodes[2].Queue);
        Assert.NotEqual(PolicyQueue.None, nodes[1].Queue);
    }

    [Fact]
    public void ShrinkingTheCapacityEvictsDownToIt()
    {
        var (policy, nodes, evicted) = Create(capacity: 1000);
        for (var key = 0; key < 1000; key++)
        {
            Access(policy, nodes, evicted, key);
        }

        policy.SetCapacity(100);
        policy.EvictOverflow(n => evicted.Add(n));

        Assert.Equal(100, policy.WeightedSize);
        Assert.Equal(100, policy.Count);
    }

    [Fact]
    public void TheSketchCountsAndAgesByHalving()
    {
        var sketch = new FrequencySketch(1024);
        for (var i = 0; i < 10; i++)
        {
            sketch.Increment(42);
        }

        var counted = sketch.Frequency(42);
        var unseen = sketch.Frequency(7);
        var previous = sketch.SampleCount;
        for (var i = 0; i < 100_000 && sketch.SampleCount >= previous; i++)
        {
            previous = sketch.SampleCount;
            sketch.Increment(1000 + i);
        }

        Assert.Equal(10, counted);
        Assert.Equal(0, unseen);
        Assert.InRange(sketch.Frequency(42), 4, 7);
    }

    [Fact]
    public void CountersSaturateAtFifteen()
    {
        var sketch = new FrequencySketch(1024);
        for (var i = 0; i < 100; i++)
        {
            sketch.Increment(5);
        }

        Assert.Equal(15, sketch.Frequency(5));
    }

    private static (WTinyLfuPolicy, Dictionary<int, PolicyNode>, List<PolicyNode>) Create(long capacity)
        => (new WTinyLfuPolicy(capacity, capacity), new Dictionary<int, PolicyNode>(), new List<PolicyNode>());

    private static void Access(WTinyLfuPolicy policy, Dictionary<int, PolicyNode> nodes, List<PolicyNode> evicted, int key, long weight = 1)
    {
        if (nodes.TryGetValue(key, out var node) && node.Queue != PolicyQueue.None)
        {
            policy.OnAccess(node);
            return;
        }

        node = new PolicyNode(key * -1640531535, weight);
        nodes[key] = node;
        policy.OnAdd(node, evicted.Add);
    }
}
