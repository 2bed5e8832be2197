using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OptimizedCache.Cache.Core.Redis;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Redis;

/// <summary>The server killed, paused or misbehaving: nothing hangs, and the same client recovers.</summary>
public sealed class RedisResilienceTests
{
    private const string FastReconnect = ",reconnectMinDelay=20,reconnectMaxDelay=200";

    [Fact]
    public async Task EveryInFlightCommandEndsWhenTheServerIsKilledAndTheClientRecoversAfterARestart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString + ",asyncTimeout=2000" + FastReconnect);
        var failed = new TaskCompletionSource<RedisConnectionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var restored = new TaskCompletionSource<RedisConnectionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionFailed += (_, e) => failed.TrySetResult(e);
        client.ConnectionRestored += (_, e) => restored.TrySetResult(e);
        await client.SetAsync("k", new byte[1024]);
        using var stop = new CancellationTokenSource();
        long succeeded = 0, errors = 0;
        var unexpected = new List<Exception>();
        var workers = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await client.GetAsync("k");
                    Interlocked.Increment(ref succeeded);
                }
                catch (RedisException)
                {
                    Interlocked.Increment(ref errors);
                    await Task.Delay(5);
                }
                catch (Exception ex)
                {
                    lock (unexpected)
                    {
                        unexpected.Add(ex);
                    }
                }
            }
        })).ToArray();
        await Task.Delay(300);

        server.Kill();
        var failure = await failed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        var whileDown = await Assert.ThrowsAsync<RedisConnectionException>(() => client.GetAsync("k"));
        stop.Cancel();

        // Every worker's last command ended (succeeded or failed); none hangs.
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(unexpected);
        Assert.True(succeeded > 0);
        Assert.True(errors > 0);
        Assert.IsType<DnsEndPoint>(failure.Endpoint);
        Assert.Equal(RedisConnectionState.Disconnected, client.State);
        Assert.Equal(RedisConnectionState.Disconnected, whileDown.State);
        Assert.NotNull(whileDown.DisconnectedFor);
        Assert.Contains(server.Port.ToString(CultureInfo.InvariantCulture), whileDown.Message);

        await server.StartAsync();
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(await client.SetAsync("after", "restart"));
        Assert.Equal("restart", await client.GetStringAsync("after"));
        Assert.Equal(RedisConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task CommandsFailFastWhileDisconnected()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString + ",reconnectMinDelay=5000,reconnectMaxDelay=5000");
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionFailed += (_, _) => failed.TrySetResult();
        server.Kill();
        await failed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var started = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RedisConnectionException>(() => client.GetAsync("k"));

        // The command did not wait for its 5 s timeout or for the reconnect.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), started.Elapsed.ToString());
        Assert.Contains("Disconnected", ex.Message);
    }

    [Fact]
    public async Task AbortConnectFalseReturnsADisconnectedClientThatConnectsWhenTheServerAppears()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            server.Kill();
            await using var client = await RedisClient.ConnectAsync(server.ConnectionString + ",abortConnect=false,connectRetry=1" + FastReconnect);
            var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            client.ConnectionRestored += (_, _) => restored.TrySetResult();
            Assert.Equal(RedisConnectionState.Disconnected, client.State);
            await Assert.ThrowsAsync<RedisConnectionException>(() => client.PingAsync());

            await server.StartAsync();
            await restored.Task.WaitAsync(TimeSpan.FromSeconds(15));

            Assert.True(await client.PingAsync() > TimeSpan.Zero);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task ConnectingToAClosedPortThrowsNamingTheEndpoint()
    {
        var port = ServerProcess.FreePort();

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync($"127.0.0.1:{port},connectRetry=1"));

        Assert.Contains($"127.0.0.1:{port}", ex.Message);
        Assert.Contains("ConnectionRefused", ex.Message);
    }

    [Fact]
    public async Task UsesTheNextEndpointWhenTheFirstIsUnreachable()
    {
        await using var server = await RedisServer.StartAsync();
        var dead = ServerProcess.FreePort();

        await using var client = await RedisClient.ConnectAsync($"127.0.0.1:{dead},127.0.0.1:{server.Port}");

        Assert.Equal(server.Port, ((DnsEndPoint)client.Endpoint).Port);
        Assert.True(await client.PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public async Task KeepAliveDeclaresAFrozenServerDeadAndReconnectsWhenItThaws()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString + ",keepAlive=1,asyncTimeout=500,connectTimeout=500" + FastReconnect);
        var pid = ParsePid(await client.InfoAsync("server"));
        var failed = new TaskCompletionSource<RedisConnectionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionFailed += (_, e) => failed.TrySetResult(e);
        client.ConnectionRestored += (_, _) => restored.TrySetResult();

        Signal("STOP", pid);
        try
        {
            await Assert.ThrowsAsync<RedisTimeoutException>(() => client.GetAsync("k"));
            var failure = await failed.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Contains("considered dead", failure.Exception!.Message);
        }
        finally
        {
            Signal("CONT", pid);
        }

        await restored.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(await client.PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public async Task AMalformedReplyFailsTheCommandWithAProtocolErrorAndTheClientReconnects()
    {
        await using var fake = new ScriptedServer(connection => connection == 1 ? "?not-resp\r\n"u8.ToArray() : "+PONG\r\n"u8.ToArray());
        await using var client = await RedisClient.ConnectAsync($"127.0.0.1:{fake.Port}" + FastReconnect);
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionRestored += (_, _) => restored.TrySetResult();

        var ex = await Assert.ThrowsAsync<RedisProtocolException>(() => client.PingAsync());

        Assert.Contains("0x3F", ex.Message);
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await client.PingAsync() > TimeSpan.Zero);
        Assert.True(fake.Connections >= 2);
    }

    [Fact]
    public async Task ATruncatedReplyFailsTheCommandAndTheClientReconnects()
    {
        await using var fake = new ScriptedServer(connection => connection == 1 ? "$10\r\nabc"u8.ToArray() : "+PONG\r\n"u8.ToArray(), closeAfterReply: c => c == 1);
        await using var client = await RedisClient.ConnectAsync($"127.0.0.1:{fake.Port}" + FastReconnect);
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionRestored += (_, _) => restored.TrySetResult();

        var ex = await Assert.ThrowsAsync<RedisProtocolException>(() => client.PingAsync());

        Assert.Contains("middle of a reply", ex.Message);
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await client.PingAsync() > TimeSpan.Zero);
    }

    private static int ParsePid(string info)
    {
        var line = info.Split('\n').Single(l => l.StartsWith("process_id:", StringComparison.Ordinal));
        return int.Parse(line["process_id:".Length..].Trim(), CultureInfo.InvariantCulture);
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>
    /// A TCP peer that is not Redis: it answers the handshake PING with +PONG and every later command of connection
    /// <c>n</c> with <c>reply(n)</c>, to show how the client treats a peer that breaks the protocol.
    /// </summary>
    private sealed class ScriptedServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Func<int, byte[]> _reply;
        private readonly Func<int, bool> _closeAfterReply;
        private readonly Task _accept;
        private int _connections;

        public ScriptedServer(Func<int, byte[]> reply, Func<int, bool>? closeAfterReply = null)
        {
            _reply = reply;
            _closeAfterReply = closeAfterReply ?? (_ => false);
            _listener.Start();
            _accept = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            try
            {
                await _accept;
            }
            catch (Exception)
            {
                // Stopped.
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                var number = Interlocked.Increment(ref _connections);
                _ = ServeAsync(socket, number);
            }
        }

        private async Task ServeAsync(Socket socket, int number)
        {
            using var _ = socket;
            var buffer = new byte[4096];
            var commands = 0;
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var read = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    var text = Encoding.ASCII.GetString(buffer, 0, read);
                    var count = text.Split('*').Length - 1;
                    for (var i = 0; i < count; i++, commands++)
                    {
                        // The first command on every connection is the handshake PING.
                        await socket.SendAsync(commands == 0 ? "+PONG\r\n"u8.ToArray() : _reply(number), _stop.Token);
                        if (commands > 0 && _closeAfterReply(number))
                        {
                            socket.Shutdown(SocketShutdown.Both);
                            return;
                        }
                    }
                }
            }
            catch (Exception)
            {
                // The client went away.
            }
        }
    }
}
