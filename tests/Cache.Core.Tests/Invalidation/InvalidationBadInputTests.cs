namespace OptimizedCache.Cache.Core.Tests.Invalidation;

/// <summary>Bad patterns, tags and dependency changes are refused with an <see cref="ArgumentException"/> before anything is invalidated.</summary>
public sealed class InvalidationBadInputTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("*")]
    [InlineData("**")]
    [InlineData("?*")]
    [InlineData("product:\n*")]
    public async Task RefusesEmptyEverythingMatchingAndControlCharacterPatterns(string pattern)
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("product:1", "kept");

        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => test.Cache.InvalidateAsync(pattern).AsTask());

        Assert.Equal("pattern", ex.ParamName);
        Assert.True(test.Cache.L1.TryPeek("product:1", out _));
    }

    [Fact]
    public async Task RefusesOverLongPatternsAndTagsNamingTheLimit()
    {
        using var test = TestCache.Create(o => o.MaximumKeyLength = 100);
        var pattern = new string('p', 101) + "*";

        Assert.Contains("100", (await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.InvalidateAsync(pattern).AsTask())).Message);
        Assert.Contains("100", (await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.RemoveByTagAsync(new string('t', 101)).AsTask())).Message);
        await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.RemoveByTagAsync("").AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>(() => test.Cache.InvalidateAsync(null!).AsTask());
    }

    [Fact]
    public async Task ABadKeyInABatchRemovesNothing()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("product:1", "kept");

        await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.RemoveAsync(["product:1", ""]).AsTask());

        Assert.True(test.Cache.L1.TryPeek("product:1", out _));
    }

    [Fact]
    public async Task RefusesDependencyChangesTheRulesCannotExpand()
    {
        using var test = TestCache.Create(o => o.DependencyRules["product"] = ["catalog:product:{id}", "collection:{collectionId}"]);

        Assert.Contains("'order'", (await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.InvalidateDependentsAsync("order", "1").AsTask())).Message);
        Assert.Contains("collectionId", (await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.InvalidateDependentsAsync("product", "1").AsTask())).Message);
        await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.InvalidateDependentsAsync("product", new Dictionary<string, IReadOnlyList<string>>
        {
            ["id"] = ["1"],
            ["collectionId"] = ["bad\u0001"],
        }).AsTask());
    }

    [Fact]
    public void InvalidRulesAndQueueCapacityFailStartUpNamingTheSetting()
    {
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => TestCache.Create(o =>
        {
            o.DependencyRules["product"] = ["catalog:{id"];
            o.InvalidationQueueCapacity = 1;
        }));
        Assert.Contains("DependencyRules:product", ex.Message);
        Assert.Contains("InvalidationQueueCapacity", ex.Message);
    }

    [Fact]
    public async Task PatternInvalidationOnL1OnlyCountsWhatItRemoved()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("product:1", "a");
        await test.Cache.SetAsync("product:2", "b");
        await test.Cache.SetAsync("customer:1", "c");

        var result = await test.Cache.InvalidateAsync("product:[12]");

        Assert.Equal(new PatternInvalidationResult(2, 0), result);
        Assert.True(test.Cache.L1.TryPeek("customer:1", out _));
    }
}
