using System.Buffers;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

/// <summary>The shared parts under concurrent callers: no exceptions, no corruption, bounds kept.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public void SketchStaysBoundedUnderConcurrentIncrementsAndResets()
    {
        var sketch = new AccessFrequencySketch(256, sampleSize: 5000);
        var hot = StableHash.Fnv1a64("product:hot");

        Parallel.For(0, 4, worker =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                sketch.Increment(i % 2 == 0 ? hot : StableHash.Mix((ulong)((worker * 1_000_000) + i)));
            }
        });

        Assert.True(sketch.Resets >= 10, $"{sketch.Resets} resets");
        // Half of each 5,000-increment sample is the hot key, so aging holds it near 5,000 at most; lost
        // concurrent updates only lower it.
        Assert.InRange(sketch.Estimate(hot), 1, 6000);
        Assert.Equal(AccessFrequencySketch.Depth * 256 * sizeof(ushort), sketch.MemoryBytes);
    }

    [Theory]
    [InlineData("lz4")]
    [InlineData("zstd")]
    [InlineData("brotli")]
    [InlineData("deflate")]
    public void CodecRoundTripsFromManyThreadsAtOnce(string name)
    {
        var codec = TestCodecs.Create(name);
        var failures = 0;

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var source = TestPayloads.JsonLike(2048 + (i * 97), seed: i);
            var compressed = new ArrayBufferWriter<byte>();
            codec.Compress(source, compressed);
            var restored = new byte[source.Length];
            if (!codec.TryDecompress(compressed.WrittenSpan, source.Length, restored) || !restored.AsSpan().SequenceEqual(source))
            {
                Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(0, failures);
    }

    [Fact]
    public void PolicyKeepsItsTypeBoundUnderConcurrentTypes()
    {
        var policy = new AdaptiveCompressionPolicy(TestCodecs.Registry(), new CompressionPolicyOptions { MaxTrackedDataTypes = 8 }, new ZeroLoad());

        Parallel.For(0, 1000, i => policy.RecordResult($"type-{i}", 1000, 400));

        Assert.Equal(8, policy.TrackedDataTypeCount);
        Assert.Equal(992, policy.GetStatistics("type-unseen").Samples);
    }

    private sealed class ZeroLoad : ICpuLoadSource
    {
        public double GetLoad() => 0;
    }
}
