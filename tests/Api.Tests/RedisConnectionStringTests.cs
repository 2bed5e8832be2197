namespace OptimizedCache.Api.Tests;

/// <summary>A malformed <c>ConnectionStrings:cache</c> stops the Api at start, naming the offending part and never the password.</summary>
public sealed class RedisConnectionStringTests
{
    [Theory]
    [InlineData("127.0.0.1:6379,password=s3cret-api-value,connectTimeout=soon", "connectTimeout")]
    [InlineData("127.0.0.1:6379,passwrd=s3cret-api-value", "passwrd")]
    public async Task AMalformedCacheConnectionStringFailsStartUpNamingThePartNotThePassword(string connectionString, string named)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["ConnectionStrings:cache"] = connectionString });
        });

        var text = error.ToString();
        Assert.Contains(named, text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-api-value", text, StringComparison.Ordinal);
    }
}
