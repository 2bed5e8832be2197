using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>Bad keys, tags and flags are ArgumentExceptions that name the problem, never a silent miss.</summary>
public sealed class BadInputTests
{
    private static ValueTask<string> Factory(CancellationToken _) => ValueTask.FromResult("v");

    [Fact]
    public async Task ANullKeyIsAnArgumentNullException()
    {
        using var test = TestCache.Create();

        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => test.Cache.GetOrCreateAsync(null!, Factory).AsTask());

        Assert.Equal("key", error.ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task AnEmptyOrWhitespaceKeyIsRefused(string key)
    {
        using var test = TestCache.Create();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.GetOrCreateAsync(key, Factory).AsTask());

        Assert.Contains("empty or whitespace", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOverlongKeyIsRefusedNamingItsLengthButNotItsContent()
    {
        using var test = TestCache.Create(o => o.MaximumKeyLength = 16);
        var key = "customer:secret-email@example.com";

        var error = await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.SetAsync(key, "v").AsTask());

        Assert.Contains($"{key.Length} characters", error.Message, StringComparison.Ordinal);
        Assert.Contains("16", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyOfExactlyTheMaximumLengthIsAccepted()
    {
        using var test = TestCache.Create(o => o.MaximumKeyLength = 16);

        Assert.Equal("v", await test.Cache.GetOrCreateAsync(new string('k', 16), Factory));
    }

    [Fact]
    public async Task AKeyWithAControlCharacterIsRefusedNamingThePosition()
    {
        using var test = TestCache.Create();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.RemoveAsync("ab\ncd").AsTask());

        Assert.Contains("U+000A at index 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UndefinedFlagBitsAreRefused()
    {
        using var test = TestCache.Create();
        var options = new HybridCacheEntryOptions { Flags = (HybridCacheEntryFlags)0x4000 };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.GetOrCreateAsync("k", Factory, options).AsTask());

        Assert.Contains("0x4000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheWildcardTagCannotBeAttachedToAnEntry()
    {
        using var test = TestCache.Create();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.SetAsync("k", "v", tags: ["*"]).AsTask());

        Assert.Contains("'*'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABlankTagIsRefused()
    {
        using var test = TestCache.Create();

        await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.RemoveByTagAsync(" ").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.SetAsync("k", "v", tags: [""]).AsTask());
    }

    [Fact]
    public async Task TooManyTagsOnOneEntryAreRefused()
    {
        using var test = TestCache.Create(o => o.MaximumTagsPerEntry = 2);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => test.Cache.SetAsync("k", "v", tags: ["a", "b", "c"]).AsTask());

        Assert.Contains("at most 2 tags", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANonPositiveExpirationIsRefused()
    {
        using var test = TestCache.Create();

        await Assert.ThrowsAsync<ArgumentException>(
            () => test.Cache.SetAsync("k", "v", new HybridCacheEntryOptions { Expiration = TimeSpan.Zero }).AsTask());
    }
}
