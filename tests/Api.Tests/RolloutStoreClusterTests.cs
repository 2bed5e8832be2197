using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OptimizedCache.Api.Rollout;
using OptimizedCache.Testing;

namespace OptimizedCache.Api.Tests;

/// <summary>The rollout state on a Redis Cluster: saved, loaded, re-asserted by version and published to subscribers.</summary>
public sealed class RolloutStoreClusterTests
{
    [Fact]
    public async Task TheRolloutStateIsSavedLoadedReassertedAndPublishedOnACluster()
    {
        await using var cluster = await RedisCluster.StartAsync(primaries: 3);
        var options = Options.Create(new RolloutOptions());
        await using var writer = new RedisRolloutStateStore(cluster.ConnectionString, options, NullLogger<RedisRolloutStateStore>.Instance);
        await using var reader = new RedisRolloutStateStore(cluster.ConnectionString, options, NullLogger<RedisRolloutStateStore>.Instance);
        var received = new TaskCompletionSource<RolloutState>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await reader.SubscribeAsync(s => { received.TrySetResult(s); return Task.CompletedTask; }, default);

        var change = new RolloutChange(DateTimeOffset.UtcNow, "test", "set", 0, 2, "cluster");
        var state = new RolloutState("seed000", 2, 5, [change]);
        await writer.SaveAsync(state, default);

        Assert.Equal(2, (await received.Task.WaitAsync(TimeSpan.FromSeconds(10))).Phase);
        var loaded = await reader.LoadAsync(default);
        Assert.Equal((2, 5L), (loaded!.Phase, loaded.Version));
        Assert.Equal("cluster", Assert.Single(loaded.History).Reason);

        // an older version does not replace the stored one; a newer one does
        Assert.Equal(5, (await reader.ReassertAsync(state with { Phase = 1, Version = 4 }, default)).Version);
        Assert.Equal(6, (await reader.ReassertAsync(state with { Phase = 1, Version = 6 }, default)).Version);
        Assert.Equal(1, (await writer.LoadAsync(default))!.Phase);
    }
}
