using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class AccessFrequencySketchTests
{
    [Fact]
    public void CountsAccessesOfAFewKeysExactly()
    {
        var sketch = new AccessFrequencySketch(1024);
        var a = StableHash.Fnv1a64("product:1");
        var b = StableHash.Fnv1a64("product:2");

        for (var i = 0; i < 37; i++)
        {
            sketch.Increment(a);
        }

        sketch.Increment(b);

        Assert.Equal(37, sketch.Estimate(a));
        Assert.Equal(1, sketch.Estimate(b));
        Assert.Equal(0, sketch.Estimate(StableHash.Fnv1a64("product:3")));
    }

    [Fact]
    public void NeverUnderestimatesBeforeTheFirstHalving()
    {
        var sketch = new AccessFrequencySketch(256, sampleSize: int.MaxValue);
        var random = new Random(99);
        var truth = new Dictionary<ulong, int>();
        for (var i = 0; i < 20_000; i++)
        {
            // Skewed traffic over 2,000 keys: a few hot, most cold.
            var key = StableHash.Fnv1a64("k:" + (int)Math.Pow(random.Next(1, 2000), random.NextDouble()));
            sketch.Increment(key);
            truth[key] = truth.GetValueOrDefault(key) + 1;
        }

        Assert.All(truth, pair => Assert.True(sketch.Estimate(pair.Key) >= pair.Value));
    }

    [Fact]
    public void KeepsItsMemoryFixedWhateverTheNumberOfKeys()
    {
        var sketch = new AccessFrequencySketch(1000);
        var before = sketch.MemoryBytes;

        for (var i = 0; i < 1_000_000; i++)
        {
            sketch.Increment(StableHash.Mix((ulong)i));
        }

        Assert.Equal(1024, sketch.Width);
        Assert.Equal(AccessFrequencySketch.Depth * 1024 * sizeof(ushort), before);
        Assert.Equal(before, sketch.MemoryBytes);
        Assert.True(sketch.Resets >= 90, $"{sketch.Resets} resets");
    }

    [Fact]
    public void HalvesEveryCountAfterASampleOfIncrements()
    {
        var sketch = new AccessFrequencySketch(4096, sampleSize: 1000);
        var hot = StableHash.Fnv1a64("product:hot");
        for (var i = 0; i < 100; i++)
        {
            sketch.Increment(hot);
        }

        var other = 0;
        while (sketch.Resets == 0)
        {
            sketch.Increment(StableHash.Fnv1a64("cold:" + other++));
        }

        Assert.Equal(900, other);
        Assert.InRange(sketch.Estimate(hot), 50, 51);
    }

    [Fact]
    public void SaturatesInsteadOfWrappingAround()
    {
        var sketch = new AccessFrequencySketch(16, sampleSize: int.MaxValue);
        var key = StableHash.Fnv1a64("product:1");

        for (var i = 0; i < ushort.MaxValue + 10; i++)
        {
            sketch.Increment(key);
        }

        Assert.Equal(ushort.MaxValue, sketch.Estimate(key));
    }

    [Fact]
    public void DefaultsTheSampleToTenTimesTheWidth()
    {
        Assert.Equal(10 * 2048, new AccessFrequencySketch(2048).SampleSize);
    }

    [Theory]
    [InlineData(0)]
    [InlineData((1 << 24) + 1)]
    public void RefusesAWidthOutOfRange(int width)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AccessFrequencySketch(width));
    }
}
