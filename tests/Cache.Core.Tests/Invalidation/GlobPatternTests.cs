using OptimizedCache.Cache.Core.Internal.Invalidation;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("product:*", "product:42", true)]
    [InlineData("product:*", "product:", true)]
    [InlineData("product:*", "products:1", false)]
    [InlineData("product:?", "product:4", true)]
    [InlineData("product:?", "product:42", false)]
    [InlineData("product:[0-3]", "product:2", true)]
    [InlineData("product:[0-3]", "product:7", false)]
    [InlineData("product:[3-0]", "product:2", true)]
    [InlineData("product:[^0-3]", "product:7", true)]
    [InlineData("product:[^0-3]", "product:1", false)]
    [InlineData("product:[abc]x", "product:bx", true)]
    [InlineData(@"a\*b", "a*b", true)]
    [InlineData(@"a\*b", "axb", false)]
    [InlineData(@"a[\]]b", "a]b", true)]
    [InlineData("*:42", "inventory:42", true)]
    [InlineData("*:42", "inventory:420", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("a**b", "ab", true)]
    [InlineData("user:*:cart", "user:7:cart", true)]
    [InlineData("user:*:cart", "user:7:carts", false)]
    public void MatchesAsRedisDoes(string pattern, string key, bool expected) =>
        Assert.Equal(expected, GlobPattern.Compile(pattern).IsMatch(key));

    [Theory]
    [InlineData("*", true)]
    [InlineData("**", true)]
    [InlineData("***", true)]
    [InlineData("?*", true)]
    [InlineData("*?*", true)]
    [InlineData("??*", false)]
    [InlineData("a*", false)]
    [InlineData("[a-z]*", false)]
    public void KnowsWhichPatternsMatchEveryKey(string pattern, bool everything) =>
        Assert.Equal(everything, GlobPattern.Compile(pattern).MatchesEverything);

    [Fact]
    public void StaysLinearOnPathologicalPatterns()
    {
        // *a*a*a...b against aaaa...: exponential with naive backtracking, quadratic at most here
        var pattern = GlobPattern.Compile(string.Concat(Enumerable.Repeat("*a", 30)) + "b");
        Assert.False(pattern.IsMatch(new string('a', 1000)));
    }

    [Fact]
    public void ExposesTheLiteralPrefixForPreFiltering() =>
        Assert.Equal("product:4", GlobPattern.Compile(@"product:4*").LiteralPrefix);

    [Theory]
    [InlineData("oc", "oc")]
    [InlineData("a*b?c[d]e\\f^", @"a\*b\?c\[d\]e\\f\^")]
    public void EscapesAPrefixSoRedisReadsItLiterally(string literal, string escaped)
    {
        Assert.Equal(escaped, GlobPattern.Escape(literal));
        Assert.True(GlobPattern.Compile(GlobPattern.Escape(literal) + ":*").IsMatch(literal + ":x"));
    }
}
