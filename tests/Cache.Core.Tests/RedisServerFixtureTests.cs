using System.Net.Sockets;
using System.Text;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>The redis-server fixture itself: real server, raw protocol, survives restarts.</summary>
public sealed class RedisServerFixtureTests
{
    [Fact]
    public async Task AnswersRawPingWithPong()
    {
        await using var server = await RedisServer.StartAsync();

        Assert.Equal("+PONG", await RawCommandAsync(server.Port, "PING"));
    }

    [Fact]
    public async Task ServesAgainAfterKillAndRestartOnTheSamePort()
    {
        await using var server = await RedisServer.StartAsync();
        var port = server.Port;

        server.Kill();
        Assert.False(server.IsRunning);
        await Assert.ThrowsAnyAsync<SocketException>(() => RawCommandAsync(port, "PING"));

        await server.StartAsync();
        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);
        Assert.Equal("+PONG", await RawCommandAsync(port, "PING"));
    }

    [Fact]
    public async Task KeepsNothingAcrossRestartsBecausePersistenceIsOff()
    {
        await using var server = await RedisServer.StartAsync();
        Assert.Equal("+OK", await RawCommandAsync(server.Port, "SET k v"));

        server.Kill();
        await server.StartAsync();

        Assert.Equal("$-1", await RawCommandAsync(server.Port, "GET k"));
    }

    [Fact]
    public async Task RequiresThePasswordWhenOneIsConfigured()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Password = "s3cret-test" });

        Assert.StartsWith("-NOAUTH", await RawCommandAsync(server.Port, "PING"));
        Assert.Equal("+OK", await RawCommandAsync(server.Port, "AUTH s3cret-test"));
    }

    /// <summary>Sends one inline command on a fresh socket and returns the first reply line.</summary>
    private static async Task<string> RawCommandAsync(int port, string inline)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(inline + "\r\n"));
        var buffer = new byte[512];
        var read = await stream.ReadAsync(buffer);
        var text = Encoding.ASCII.GetString(buffer, 0, read);
        var end = text.IndexOf("\r\n", StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }
}
