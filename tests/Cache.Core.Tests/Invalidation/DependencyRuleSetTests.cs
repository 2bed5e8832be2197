using OptimizedCache.Cache.Core.Internal.Invalidation;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

public sealed class DependencyRuleSetTests
{
    private static readonly DependencyRuleSet Rules = DependencyRuleSet.Create(new Dictionary<string, string[]>
    {
        ["product"] = ["catalog:product:{id}", "inventory:{id}", "recommendations:product:{id}", "collection:{collectionId}"],
        ["order"] = ["order:{id}", "customer:{customerId}:line:{productId}"],
    });

    [Fact]
    public void ExpandsTemplatesWithOneTagPerValue()
    {
        var tags = Rules.Expand("product", Values(("id", ["42"]), ("collectionId", ["1", "2"])), 1024);
        Assert.Equal(["catalog:product:42", "inventory:42", "recommendations:product:42", "collection:1", "collection:2"], tags);
    }

    [Fact]
    public void ExpandsEveryCombinationOfSeveralPlaceholders()
    {
        var tags = Rules.Expand("order", Values(("id", ["9"]), ("customerId", ["7"]), ("productId", ["1", "2"])), 1024);
        Assert.Equal(["order:9", "customer:7:line:1", "customer:7:line:2"], tags);
    }

    [Fact]
    public void AnEmptyValueListYieldsNoTagForItsTemplate()
    {
        var tags = Rules.Expand("product", Values(("id", ["42"]), ("collectionId", [])), 1024);
        Assert.DoesNotContain(tags, t => t.StartsWith("collection:", StringComparison.Ordinal));
        Assert.Equal(3, tags.Count);
    }

    [Fact]
    public void RefusesUnknownEntitiesMissingPlaceholdersAndBadValues()
    {
        Assert.Contains("'customer'", Assert.Throws<ArgumentException>(() => Rules.Expand("customer", Values(("id", ["1"])), 1024)).Message);
        Assert.Contains("collectionId", Assert.Throws<ArgumentException>(() => Rules.Expand("product", Values(("id", ["1"])), 1024)).Message);
        Assert.Throws<ArgumentException>(() => Rules.Expand("product", Values(("id", [""]), ("collectionId", [])), 1024));
        Assert.Throws<ArgumentException>(() => Rules.Expand("product", Values(("id", ["a\nb"]), ("collectionId", [])), 1024));
        Assert.Throws<ArgumentException>(() => Rules.Expand("product", Values(("id", [new string('x', 2000)]), ("collectionId", [])), 1024));
    }

    [Fact]
    public void RefusesChangesThatExpandToTooManyTags()
    {
        var many = Enumerable.Range(0, 40).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var ex = Assert.Throws<ArgumentException>(() => Rules.Expand("order", Values(("id", many), ("customerId", many), ("productId", many)), 1024));
        Assert.Contains("1024", ex.Message);
    }

    [Theory]
    [InlineData("catalog:{id")]
    [InlineData("catalog:id}")]
    [InlineData("catalog:{}")]
    [InlineData("catalog:{1d}")]
    [InlineData("{a}{b}{c}{d}{e}")]
    [InlineData("*")]
    [InlineData(" ")]
    public void ValidationNamesBadTemplates(string template)
    {
        var failures = DependencyRuleSet.Validate(new Dictionary<string, string[]> { ["product"] = [template] });
        Assert.Contains("product", Assert.Single(failures));
        Assert.Throws<ArgumentException>(() => DependencyRuleSet.Create(new Dictionary<string, string[]> { ["product"] = [template] }));
    }

    [Fact]
    public void ValidationBoundsTheRules()
    {
        Assert.NotEmpty(DependencyRuleSet.Validate(new Dictionary<string, string[]> { ["product"] = [] }));
        Assert.NotEmpty(DependencyRuleSet.Validate(new Dictionary<string, string[]> { ["product"] = [.. Enumerable.Range(0, 33).Select(i => "t" + i)] }));
        Assert.NotEmpty(DependencyRuleSet.Validate(new Dictionary<string, string[]> { ["product"] = [new string('t', 300)] }));
        Assert.Empty(DependencyRuleSet.Validate(new Dictionary<string, string[]> { ["product"] = ["catalog:product:{id}"] }));
    }

    private static Dictionary<string, IReadOnlyList<string>> Values(params (string Name, string[] Values)[] values) =>
        values.ToDictionary(v => v.Name, v => (IReadOnlyList<string>)v.Values);
}
