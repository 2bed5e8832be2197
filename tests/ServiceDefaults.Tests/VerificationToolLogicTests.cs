using System.Diagnostics.Metrics;
using OptimizedCache.Benchmarks.Verification;
using OptimizedCache.ServiceDefaults.Tests.Infrastructure;

namespace OptimizedCache.ServiceDefaults.Tests;

/// <summary>The pure parts of the verification tools (verification/README.md): /metrics parsing, statistics, options.</summary>
public sealed class VerificationToolLogicTests
{
    [Fact]
    public async Task MetricsSnapshotReadsTheExpositionServiceDefaultsServes()
    {
        var meterName = "OptimizedCache.Tests." + Guid.NewGuid().ToString("N")[..8];
        using var meter = new Meter(meterName);
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["ServiceDefaults:AdditionalMeters:0"] = meterName });
        var counter = meter.CreateCounter<long>("optimizedcache.requests", "{request}");
        counter.Add(7, new("tier", "l2"), new("result", "hit"));
        counter.Add(3, new("tier", "l2"), new("result", "miss"));
        counter.Add(11, new("tier", "l1"), new("result", "hit"), new("data_type", "quote\"d"));

        var snapshot = MetricsSnapshot.Parse(await app.GetMetricsAsync());

        Assert.Equal(7, snapshot.Sum("optimizedcache_requests_total", ("tier", "l2"), ("result", "hit")));
        Assert.Equal(18, snapshot.Sum("optimizedcache_requests_total", ("result", "hit")));
        Assert.Equal(11, snapshot.Sum("optimizedcache_requests_total", ("data_type", "quote\"d")));
        Assert.True(snapshot.Has("dotnet_process_memory_working_set_bytes"));
    }

    [Fact]
    public void MetricsSnapshotRejectsAMalformedLineNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => MetricsSnapshot.Parse("good_total 1\nbroken{label=\"x\"} not-a-number\n"));
        Assert.Contains("broken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LatencyHistogramPercentilesAreWithinABucketOfTheTrueValue()
    {
        var histogram = new LatencyHistogram();
        for (var ms = 1; ms <= 1000; ms++)
        {
            histogram.Record(TimeSpan.FromMilliseconds(ms));
        }

        Assert.Equal(1000, histogram.Count);
        Assert.InRange(histogram.PercentileMs(50), 500 * 0.96, 500 * 1.04);
        Assert.InRange(histogram.PercentileMs(99), 990 * 0.96, 990 * 1.04);
        Assert.Equal(1000, histogram.MaxMs);
    }

    [Fact]
    public void LinearRegressionFindsTheSlopeAndFitOfALine()
    {
        double[] x = [0, 1, 2, 3, 4];
        var (slope, intercept, r2) = Statistics.LinearRegression(x, [.. x.Select(v => (3 * v) + 10)]);
        Assert.Equal(3, slope, 9);
        Assert.Equal(10, intercept, 9);
        Assert.Equal(1, r2, 9);

        var (_, _, noisyFit) = Statistics.LinearRegression(x, [5, 9, 4, 8, 5]);
        Assert.True(noisyFit < 0.5, $"R² of a level series with noise should be low; got {noisyFit}");
    }

    [Fact]
    public void ZipfSamplerFavoursTheFirstRanks()
    {
        var sampler = new ZipfSampler(1000, 1.0);
        var random = new Random(1);
        var draws = Enumerable.Range(0, 20_000).Select(_ => sampler.Next(random)).ToList();

        Assert.All(draws, d => Assert.InRange(d, 1, 1000));
        // Rank 1 carries 1/H(1000) ≈ 13.4% of the mass; rank 1000 about 0.013%.
        Assert.InRange(draws.Count(d => d == 1) / 20_000.0, 0.12, 0.15);
        Assert.Throws<ArgumentException>(() => new ZipfSampler(0, 1.0));
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("500ms", 0.5)]
    [InlineData("2h", 7200)]
    [InlineData("90", 90)]
    public void DurationsParseWithTheirUnits(string text, double seconds)
    {
        Assert.True(ToolOptions.TryParseDuration(text, out var duration));
        Assert.Equal(seconds, duration.TotalSeconds, 6);
    }

    [Fact]
    public void OptionsRejectUnknownArgumentsAndRepeatsOfSingleOptions()
    {
        ToolOption[] spec = [new("api", "url", "http://x", Repeatable: true), new("requests", "n", "50"), new("quick", "flag", IsFlag: true)];

        Assert.True(ToolOptions.TryParse(["--api", "http://a", "--api=http://b", "--quick", "--requests", "7"], spec, out var parsed, out _));
        Assert.Equal(["http://a", "http://b"], parsed.GetAll("api"));
        Assert.Equal(7, parsed.Int("requests", 1));
        Assert.True(parsed.Flag("quick"));

        Assert.False(ToolOptions.TryParse(["--bogus"], spec, out _, out var unknown));
        Assert.Contains("--bogus", unknown, StringComparison.Ordinal);
        Assert.False(ToolOptions.TryParse(["--requests", "1", "--requests", "2"], spec, out _, out var twice));
        Assert.Contains("twice", twice, StringComparison.Ordinal);
        Assert.True(ToolOptions.TryParse(["--requests", "0"], spec, out var zero, out _));
        Assert.Throws<ArgumentException>(() => zero.Int("requests", 1));
    }
}
