using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class AdaptiveTtlCalculatorTests
{
    private static readonly TimeSpan BaseTtl = TimeSpan.FromMinutes(10);

    [Fact]
    public void MultipliesTypeAccessAndSizeForAProductOf500BytesWith50Accesses()
    {
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions { VariationFactor = 0 });
        Record(calculator, "product:42", 50);

        var ttl = calculator.Calculate("product:42", BaseTtl, 500);

        // base × product 1.5 × access (1 + 50/100 × 0.5 = 1.25) × size (< 1 KiB: 1.2)
        AssertSeconds(600 * 1.5 * 1.25 * 1.2, ttl);
    }

    [Fact]
    public void ShortensLargeInventoryEntries()
    {
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions { VariationFactor = 0 });

        var ttl = calculator.Calculate("inventory:sku-9", BaseTtl, 200 * 1024);

        // base × inventory 0.5 × no accesses 1.0 × size (≥ 100 KiB: 0.6)
        AssertSeconds(600 * 0.5 * 1.0 * 0.6, ttl);
    }

    [Fact]
    public void CapsTheAccessMultiplierAtTwo()
    {
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions { VariationFactor = 0 });
        Record(calculator, "customer:7", 300);

        var ttl = calculator.Calculate("customer:7", BaseTtl, 5 * 1024);

        // base × customer 2.0 × access min(2, 1 + 300/100 × 0.5 = 2.5) = 2 × size (< 10 KiB: 1.0)
        AssertSeconds(600 * 2.0 * 2.0 * 1.0, ttl);
    }

    [Fact]
    public void UsesOneForAnUnconfiguredTypeAndAnUnknownSize()
    {
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions { VariationFactor = 0 });

        AssertSeconds(600, calculator.Calculate("session:abc", BaseTtl, 0));
    }

    [Fact]
    public void AppliesTheJitterOfTheKeysStableHash()
    {
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions { VariationFactor = 0.1 });

        var ttl = calculator.Calculate("product:42", BaseTtl, 0);

        // FNV-1a 64("product:42") = 0x83917BEBB8AD1670; mod 1000 = 960; 1 + (0.960 − 0.5) × 2 × 0.1 = 1.092.
        Assert.Equal(960UL, 0x83917BEBB8AD1670UL % 1000);
        AssertSeconds(600 * 1.5 * 1.092, ttl);
    }

    [Fact]
    public void GivesTheSameTtlForTheSameKeyOnEveryCallAndInstance()
    {
        var first = new AdaptiveTtlCalculator(new AdaptiveTtlOptions());
        var second = new AdaptiveTtlCalculator(new AdaptiveTtlOptions());

        var ttl = first.Calculate("product:1234", BaseTtl, 2048);

        Assert.Equal(ttl, first.Calculate("product:1234", BaseTtl, 2048));
        Assert.Equal(ttl, second.Calculate("product:1234", BaseTtl, 2048));
    }

    [Fact]
    public void KeepsTheJitterWithinTheVariationFactorAndUsesItsWholeRange()
    {
        var jitters = Enumerable.Range(0, 10_000)
            .Select(i => AdaptiveTtlCalculator.GetJitter(StableHash.Fnv1a64($"product:{i}"), 0.1))
            .ToList();

        Assert.All(jitters, j => Assert.InRange(j, 0.9, 1.0998 + 1e-12));
        Assert.True(jitters.Min() < 0.905 && jitters.Max() > 1.095, $"range {jitters.Min()}..{jitters.Max()}");
    }

    [Theory]
    [InlineData(0L, 1.0)]
    [InlineData(1L, 1.2)]
    [InlineData(1023L, 1.2)]
    [InlineData(1024L, 1.0)]
    [InlineData(10L * 1024 - 1, 1.0)]
    [InlineData(10L * 1024, 0.8)]
    [InlineData(100L * 1024 - 1, 0.8)]
    [InlineData(100L * 1024, 0.6)]
    [InlineData(50L * 1024 * 1024, 0.6)]
    public void ChoosesTheSeedsSizeMultiplier(long size, double expected)
    {
        Assert.Equal(expected, AdaptiveTtlCalculator.GetSizeMultiplier(size));
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(50, 1.25)]
    [InlineData(100, 1.5)]
    [InlineData(199, 1.995)]
    [InlineData(200, 2.0)]
    [InlineData(5000, 2.0)]
    public void ChoosesTheSeedsAccessMultiplier(int count, double expected)
    {
        Assert.Equal(expected, AdaptiveTtlCalculator.GetAccessMultiplier(count), 10);
    }

    [Theory]
    [InlineData("product:42", "product")]
    [InlineData("PRODUCT:42", "other")]
    [InlineData("inventory:sku:9", "inventory")]
    [InlineData("customer:7", "customer")]
    [InlineData("products:42", "product")]
    [InlineData("session:1", "other")]
    [InlineData("product", "other")]
    [InlineData(":42", "other")]
    public void TakesTheDataTypeFromTheKeyPrefixThroughConfiguration(string key, string expected)
    {
        var classifier = new DataTypeClassifier(new Dictionary<string, string>
        {
            ["product:"] = "product",
            ["products:"] = "product",
            ["inventory:"] = "inventory",
            ["customer:"] = "customer",
        });
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions(), classifier);

        Assert.Equal(expected, calculator.ResolveDataType(key));
    }

    [Fact]
    public void ReturnsTheConfiguredDataTypeInstanceSoMetricTagsStayBounded()
    {
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions());

        Assert.Same(calculator.ResolveDataType("product:1"), calculator.ResolveDataType("product:2"));
        Assert.Equal(["customer", "inventory", "other", "product"], calculator.DataTypes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void UsesConfiguredMultipliers()
    {
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions
        {
            VariationFactor = 0,
            DataTypeMultipliers = new() { ["recommendation"] = 0.25 },
        });

        AssertSeconds(600 * 0.25, calculator.Calculate("recommendation:u1", BaseTtl, 0));
        AssertSeconds(600, calculator.Calculate("product:1", BaseTtl, 0));
    }

    [Theory]
    [InlineData(0.6, "VariationFactor")]
    [InlineData(-0.1, "VariationFactor")]
    public void RefusesAVariationFactorOutOfRange(double factor, string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new AdaptiveTtlCalculator(new AdaptiveTtlOptions { VariationFactor = factor }));

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void RefusesANonPositiveMultiplier()
    {
        var options = new AdaptiveTtlOptions { DataTypeMultipliers = new() { ["product"] = 0 } };

        var error = Assert.Throws<ArgumentException>(() => new AdaptiveTtlCalculator(options));
        Assert.Contains("DataTypeMultipliers['product']", error.Message);
    }

    [Fact]
    public void RefusesANonPositiveBaseTtl()
    {
        var calculator = new AdaptiveTtlCalculator(new AdaptiveTtlOptions());

        Assert.Throws<ArgumentException>(() => calculator.Calculate("product:1", TimeSpan.Zero, 10));
    }

    private static void Record(AdaptiveTtlCalculator calculator, string key, int count)
    {
        for (var i = 0; i < count; i++)
        {
            calculator.RecordAccess(key);
        }
    }

    private static void AssertSeconds(double expected, TimeSpan actual) =>
        Assert.Equal(expected, actual.TotalSeconds, 5);
}
