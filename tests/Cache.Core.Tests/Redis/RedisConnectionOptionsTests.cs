using System.Net;
using OptimizedCache.Cache.Core.Redis;

namespace OptimizedCache.Cache.Core.Tests.Redis;

public sealed class RedisConnectionOptionsTests
{
    [Fact]
    public void ParsesEveryOption()
    {
        var options = RedisConnectionOptions.Parse(
            "cache1:6400, [::1]:6401 ,cache3,password=p@ss=word,user=alice,ssl=true,sslHost=redis.internal,abortConnect=false," +
            "connectRetry=5,connectTimeout=1500,syncTimeout=2500,asyncTimeout=3500,defaultDatabase=3,name=api-1,keepAlive=15," +
            "maxReplyBytes=1048576,reconnectMinDelay=20,reconnectMaxDelay=900");

        Assert.Equal([new DnsEndPoint("cache1", 6400), new DnsEndPoint("::1", 6401), new DnsEndPoint("cache3", 6380)], options.Endpoints);
        Assert.Equal("p@ss=word", options.Password);
        Assert.Equal("alice", options.User);
        Assert.True(options.Ssl);
        Assert.Equal("redis.internal", options.SslHost);
        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(5, options.ConnectRetry);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.SyncTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(3500), options.AsyncTimeout);
        Assert.Equal(3, options.DefaultDatabase);
        Assert.Equal("api-1", options.ClientName);
        Assert.Equal(TimeSpan.FromSeconds(15), options.KeepAlive);
        Assert.Equal(1048576, options.MaxReplyBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(20), options.ReconnectMinDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(900), options.ReconnectMaxDelay);
    }

    [Fact]
    public void UsesStackExchangeDefaultsForWhatIsNotGiven()
    {
        var options = RedisConnectionOptions.Parse("localhost");

        Assert.Equal([new DnsEndPoint("localhost", 6379)], options.Endpoints);
        Assert.True(options.AbortOnConnectFail);
        Assert.False(options.Ssl);
        Assert.Null(options.Password);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.AsyncTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), options.KeepAlive);
        Assert.Equal(512L * 1024 * 1024, options.MaxReplyBytes);
        Assert.Equal(0, options.DefaultDatabase);
    }

    [Fact]
    public void AsyncTimeoutFollowsSyncTimeoutWhenOnlyThatIsGiven()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(1234), RedisConnectionOptions.Parse("h:1,syncTimeout=1234").AsyncTimeout);
    }

    [Fact]
    public void ReadsOptionNamesCaseInsensitively()
    {
        var options = RedisConnectionOptions.Parse("h:1,PASSWORD=x,SSL=True,AbortConnect=FALSE");

        Assert.Equal("x", options.Password);
        Assert.True(options.Ssl);
        Assert.False(options.AbortOnConnectFail);
    }

    [Fact]
    public void NamesAnUnknownOptionInTheError()
    {
        var ex = Assert.Throws<ArgumentException>(() => RedisConnectionOptions.Parse("h:1,password=secret,tieBreakr=x"));

        Assert.Contains("'tieBreakr'", ex.Message);
        Assert.DoesNotContain("secret", ex.Message);
    }

    [Theory]
    [InlineData("h:1,ssl=maybe", "ssl")]
    [InlineData("h:1,connectTimeout=-5", "connectTimeout")]
    [InlineData("h:1,defaultDatabase=x", "defaultDatabase")]
    [InlineData("h:70000", "h:70000")]
    [InlineData("h:1,reconnectMinDelay=500,reconnectMaxDelay=100", "ReconnectMaxDelay")]
    [InlineData("password=only", "endpoint")]
    public void RejectsBadValuesNamingThem(string connectionString, string named)
    {
        var ex = Assert.Throws<ArgumentException>(() => RedisConnectionOptions.Parse(connectionString));

        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public void NeverShowsThePasswordInToString()
    {
        var options = RedisConnectionOptions.Parse("h:1,user=bob,password=hunter2-very-secret,ssl=true,name=n1");

        var text = options.ToString();

        Assert.DoesNotContain("hunter2", text);
        Assert.Contains("password=*****", text);
        Assert.Contains("user=bob", text);
        Assert.Contains("h:1", text);
    }

    [Fact]
    public void ToStringParsesBackToTheSameSettings()
    {
        var original = RedisConnectionOptions.Parse("a:1,b:2,user=u,ssl=true,sslHost=s,abortConnect=false,connectTimeout=7,asyncTimeout=8,syncTimeout=9,keepAlive=3,defaultDatabase=2,name=x");

        var again = RedisConnectionOptions.Parse(original.ToString().Replace(",password=*****", string.Empty, StringComparison.Ordinal));

        Assert.Equal(original.ToString(), again.ToString());
    }
}
