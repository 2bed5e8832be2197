using System.Collections.Concurrent;
using System.Text;
using OptimizedCache.Cache.Core.Redis;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Redis;

public sealed class RedisSubscriberTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task DeliversPublishedMessagesToChannelSubscribers()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);
        var received = new TaskCompletionSource<(string Channel, string? Pattern, string Payload)>(TaskCreationOptions.RunContinuationsAsynchronously);

        await client.Subscriber.SubscribeAsync("news", m => received.TrySetResult((m.Channel, m.Pattern, Encoding.UTF8.GetString(m.Payload.Span))));
        var receivers = await client.PublishAsync("news", "hello"u8.ToArray());

        Assert.Equal(1, receivers);
        Assert.Equal(("news", (string?)null, "hello"), await received.Task.WaitAsync(Wait));
    }

    [Fact]
    public async Task DeliversMessagesMatchingAPattern()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);
        var received = new TaskCompletionSource<(string Channel, string? Pattern, byte[] Payload)>(TaskCreationOptions.RunContinuationsAsynchronously);

        await client.Subscriber.PSubscribeAsync("inv:*", m => received.TrySetResult((m.Channel, m.Pattern, m.Payload.ToArray())));
        await client.PublishAsync("other", "x"u8.ToArray());
        await client.PublishAsync("inv:product", new byte[] { 0, 1, 2, 255 });

        var (channel, pattern, payload) = await received.Task.WaitAsync(Wait);
        Assert.Equal("inv:product", channel);
        Assert.Equal("inv:*", pattern);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, payload);
    }

    [Fact]
    public async Task EveryHandlerOfAChannelRunsAndUnsubscribeStopsDelivery()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.Subscriber.SubscribeAsync("c", _ => first.TrySetResult());
        await client.Subscriber.SubscribeAsync("c", _ => throw new InvalidOperationException("a faulty handler"));
        await client.Subscriber.SubscribeAsync("c", _ => second.TrySetResult());

        Assert.Equal(1, await client.PublishAsync("c", "m"u8.ToArray()));
        await Task.WhenAll(first.Task, second.Task).WaitAsync(Wait);

        await client.Subscriber.UnsubscribeAsync("c");
        Assert.Equal(0, await client.PublishAsync("c", "m"u8.ToArray()));
    }

    [Fact]
    public async Task ResubscribesAfterARestartAndSaysMessagesMayHaveBeenMissed()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString + ",reconnectMinDelay=20,reconnectMaxDelay=200");
        var messages = new ConcurrentQueue<string>();
        var missed = new TaskCompletionSource<RedisConnectionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clientRestored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Subscriber.MessagesMayHaveBeenMissed += (_, e) => missed.TrySetResult(e);
        client.ConnectionRestored += (_, _) => clientRestored.TrySetResult();
        await client.Subscriber.SubscribeAsync("chan", m => messages.Enqueue(Encoding.UTF8.GetString(m.Payload.Span)));
        await client.Subscriber.PSubscribeAsync("pat:*", m => messages.Enqueue(m.Channel));
        await client.PublishAsync("chan", "before"u8.ToArray());

        server.Kill();
        await server.StartAsync();
        var args = await missed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await clientRestored.Task.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(RedisConnectionState.Connected, args.State);
        Assert.Equal(RedisConnectionState.Connected, client.Subscriber.State);
        Assert.Equal(1, await client.PublishAsync("chan", "after"u8.ToArray()));
        Assert.Equal(1, await client.PublishAsync("pat:x", "p"u8.ToArray()));
        var deadline = DateTime.UtcNow + Wait;
        while (messages.Count < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(["before", "after", "pat:x"], messages.ToArray());
    }

    [Fact]
    public async Task SubscribingWhileTheServerIsDownFailsAndRegistersNothing()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString + ",connectRetry=1,connectTimeout=500");
        server.Kill();

        await Assert.ThrowsAsync<RedisConnectionException>(() => client.Subscriber.SubscribeAsync("c", _ => { }));
    }
}
