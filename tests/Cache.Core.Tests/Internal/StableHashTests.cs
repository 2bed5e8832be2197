using System.Text;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class StableHashTests
{
    // Published FNV-1a 64 test vectors plus the value for a cache key; hard-coded so that any process,
    // on any replica, provably computes the same jitter.
    [Theory]
    [InlineData("", 0xCBF29CE484222325UL)]
    [InlineData("a", 0xAF63DC4C8601EC8CUL)]
    [InlineData("foobar", 0x85944171F73967E8UL)]
    [InlineData("product:42", 0x83917BEBB8AD1670UL)]
    public void MatchesTheFnv1a64ReferenceValues(string key, ulong expected)
    {
        Assert.Equal(expected, StableHash.Fnv1a64(key));
    }

    [Fact]
    public void HashesLongKeysLikeTheirUtf8Bytes()
    {
        var key = "catalog:" + string.Concat(Enumerable.Repeat("ünïcödé-", 100));

        Assert.Equal(StableHash.Fnv1a64(Encoding.UTF8.GetBytes(key)), StableHash.Fnv1a64(key));
    }

    [Fact]
    public void MixSpreadsNeighbouringValuesApart()
    {
        var a = StableHash.Mix(1);
        var b = StableHash.Mix(2);

        Assert.True(ulong.PopCount(a ^ b) > 16, $"{a:X} and {b:X} differ in too few bits");
    }
}
