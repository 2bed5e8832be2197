using System.Buffers;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class AdaptiveCompressionPolicyTests
{
    private const int MidSize = 10 * 1024;
    private const int LargeSize = 64 * 1024;

    [Fact]
    public void LeavesValuesBelowTheThresholdRaw()
    {
        var policy = Policy();

        Assert.Equal(CompressionCodecId.None, policy.Choose("product", 1023));
        Assert.Equal(CompressionCodecId.Lz4, policy.Choose("product", 1024));
    }

    [Fact]
    public void UsesTheFastCodecForMidSizeAndTheStrongOneForLargeValues()
    {
        var policy = Policy();

        Assert.Equal(CompressionCodecId.Lz4, policy.Choose("product", MidSize));
        Assert.Equal(CompressionCodecId.Lz4, policy.Choose("product", LargeSize - 1));
        Assert.Equal(CompressionCodecId.Zstd, policy.Choose("product", LargeSize));
    }

    [Fact]
    public void FallsBackToTheFrameworkCodecsWhenTheNativeOnesAreMissing()
    {
        var policy = Policy(missing: [CompressionCodecId.Lz4, CompressionCodecId.Zstd]);

        Assert.Equal(CompressionCodecId.Deflate, policy.Choose("product", MidSize));
        Assert.Equal(CompressionCodecId.Brotli, policy.Choose("product", LargeSize));
    }

    [Fact]
    public void PrefersTheCheapCodecUnderHighCpuLoad()
    {
        var load = new FixedCpuLoad(0.95);
        var policy = Policy(load);

        Assert.Equal(CompressionCodecId.Lz4, policy.Choose("product", MidSize));
        Assert.Equal(CompressionCodecId.Lz4, policy.Choose("product", LargeSize));

        load.Value = 0.2;
        Assert.Equal(CompressionCodecId.Zstd, policy.Choose("product", LargeSize));
    }

    [Fact]
    public void AvoidsExpensiveCodecsUnderHighCpuLoadWhenLz4IsMissing()
    {
        var policy = Policy(new FixedCpuLoad(0.95), [CompressionCodecId.Lz4]);

        Assert.Equal(CompressionCodecId.None, policy.Choose("product", MidSize));
        Assert.Equal(CompressionCodecId.Zstd, policy.Choose("product", LargeSize));
    }

    [Fact]
    public void NeverChoosesAnUnavailableCodec()
    {
        var load = new FixedCpuLoad(0);
        foreach (var missing in new[] { CompressionCodecId.Lz4, CompressionCodecId.Zstd, CompressionCodecId.Brotli, CompressionCodecId.Deflate })
        {
            var registry = TestCodecs.Registry(null, missing);
            var policy = new AdaptiveCompressionPolicy(registry, new CompressionPolicyOptions(), load);
            foreach (var cpu in new[] { 0.0, 0.5, 0.9, 1.0 })
            {
                load.Value = cpu;
                foreach (var size in new[] { 0, 1024, 5000, MidSize, LargeSize, 1024 * 1024 })
                {
                    var chosen = policy.Choose("product", size);
                    Assert.True(chosen != missing && registry.IsAvailable(chosen), $"{chosen} chosen with {missing} missing");
                }
            }
        }
    }

    [Fact]
    public void CompressesAndReportsTheCodecAndOriginalLength()
    {
        var policy = Policy();
        var source = TestPayloads.JsonLike(MidSize);

        using var result = policy.Compress("product", source);

        Assert.Equal(CompressionCodecId.Lz4, result.Codec);
        Assert.Equal(source.Length, result.UncompressedLength);
        Assert.True(result.Payload.Length < source.Length / 2);
        var restored = new byte[source.Length];
        Assert.True(new Lz4Codec().TryDecompress(result.Payload, source.Length, restored));
        Assert.Equal(source, restored);
    }

    [Fact]
    public void StoresAValueRawWhenCompressingItDoesNotPay()
    {
        var policy = Policy();
        var source = TestPayloads.Random(MidSize);

        using var result = policy.Compress("image", source);

        Assert.Equal(CompressionCodecId.None, result.Codec);
        Assert.True(result.Payload.SequenceEqual(source));
    }

    [Fact]
    public void StopsCompressingATypeThatDoesNotCompressAndResamplesEveryNthValue()
    {
        var policy = Policy(options: new CompressionPolicyOptions { MinimumSamples = 3, ResampleInterval = 8 });
        for (var i = 0; i < 3; i++)
        {
            using var sample = policy.Compress("image", TestPayloads.Random(MidSize, seed: i));
        }

        var statistics = policy.GetStatistics("image");
        Assert.True(statistics.Incompressible);
        Assert.Equal(3, statistics.Samples);
        Assert.True(statistics.Ratio > 0.9);

        var chosen = Enumerable.Range(0, 32).Select(_ => policy.Choose("image", MidSize)).ToList();
        Assert.Equal(4, chosen.Count(c => c == CompressionCodecId.Lz4));
        Assert.Equal(28, chosen.Count(c => c == CompressionCodecId.None));

        // Other types are unaffected.
        Assert.Equal(CompressionCodecId.Lz4, policy.Choose("product", MidSize));
    }

    [Fact]
    public void ChangesItsMindWhenResampledValuesStartToCompress()
    {
        var policy = Policy(options: new CompressionPolicyOptions { MinimumSamples = 2, ResampleInterval = 4 });
        for (var i = 0; i < 2; i++)
        {
            using var sample = policy.Compress("feed", TestPayloads.Random(MidSize, seed: i));
        }

        Assert.True(policy.GetStatistics("feed").Incompressible);

        var calls = 0;
        while (policy.GetStatistics("feed").Incompressible && calls < 100)
        {
            using var result = policy.Compress("feed", TestPayloads.JsonLike(MidSize, seed: calls));
            calls++;
        }

        Assert.False(policy.GetStatistics("feed").Incompressible);
        Assert.InRange(calls, 4, 12);
        using var compressed = policy.Compress("feed", TestPayloads.JsonLike(MidSize));
        Assert.Equal(CompressionCodecId.Lz4, compressed.Codec);
    }

    [Fact]
    public void BoundsThePerTypeStateAndSharesTheRestInOneBucket()
    {
        var policy = Policy(options: new CompressionPolicyOptions { MaxTrackedDataTypes = 4 });

        for (var i = 0; i < 100; i++)
        {
            policy.RecordResult($"type-{i}", 1000, 500);
        }

        Assert.Equal(4, policy.TrackedDataTypeCount);
        Assert.Equal("type-0", policy.GetStatistics("type-0").DataType);
        var overflow = policy.GetStatistics("type-50");
        Assert.Equal(AdaptiveCompressionPolicy.OtherBucket, overflow.DataType);
        Assert.Equal(96, overflow.Samples);
    }

    [Fact]
    public void SmoothsTheRatioOfATypeExponentially()
    {
        var policy = Policy(options: new CompressionPolicyOptions { RatioSmoothing = 0.5 });

        policy.RecordResult("product", 1000, 200);
        policy.RecordResult("product", 1000, 600);

        // First sample 0.2, then 0.2 + 0.5 × (0.6 − 0.2) = 0.4.
        Assert.Equal(0.4, policy.GetStatistics("product").Ratio, 10);
    }

    [Theory]
    [InlineData(nameof(CompressionPolicyOptions.MinimumSizeBytes))]
    [InlineData(nameof(CompressionPolicyOptions.IncompressibleRatio))]
    [InlineData(nameof(CompressionPolicyOptions.ResampleInterval))]
    [InlineData(nameof(CompressionPolicyOptions.MaxTrackedDataTypes))]
    [InlineData(nameof(CompressionPolicyOptions.HighCpuLoad))]
    public void RefusesASettingOutOfRangeNamingIt(string setting)
    {
        var options = new CompressionPolicyOptions();
        typeof(CompressionPolicyOptions).GetProperty(setting)!.SetValue(options, setting switch
        {
            nameof(CompressionPolicyOptions.IncompressibleRatio) or nameof(CompressionPolicyOptions.HighCpuLoad) => (object)1.5,
            _ => -1,
        });

        var error = Assert.Throws<ArgumentException>(() => Policy(options: options));
        Assert.Equal(setting, error.ParamName);
    }

    private static AdaptiveCompressionPolicy Policy(
        ICpuLoadSource? load = null, CompressionCodecId[]? missing = null, CompressionPolicyOptions? options = null) =>
        new(TestCodecs.Registry(null, missing ?? []), options ?? new CompressionPolicyOptions(), load ?? new FixedCpuLoad(0));

    private sealed class FixedCpuLoad(double value) : ICpuLoadSource
    {
        public double Value { get; set; } = value;

        public double GetLoad() => Value;
    }
}
