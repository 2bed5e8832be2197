using OptimizedCache.Cache.Core.Internal.Invalidation;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

public sealed class InvalidationOutboxTests
{
    [Fact]
    public void ReplaysInTheOrderQueued()
    {
        var outbox = new InvalidationOutbox(10);
        var first = new PendingInvalidation(InvalidationKind.Key, ["a"], 1);
        var second = new PendingInvalidation(InvalidationKind.Tag, ["t"], 2);
        Assert.True(outbox.Enqueue(first));
        Assert.True(outbox.Enqueue(second));

        Assert.True(outbox.TryPeek(out var next));
        Assert.Same(first, next);
        outbox.Complete(next!);
        Assert.True(outbox.TryPeek(out next));
        Assert.Same(second, next);
        outbox.Complete(next!);
        Assert.True(outbox.IsEmpty);
    }

    [Fact]
    public void AnEntryNotCompletedStaysAtTheHead()
    {
        var outbox = new InvalidationOutbox(10);
        var first = new PendingInvalidation(InvalidationKind.Key, ["a"], 1);
        outbox.Enqueue(first);
        outbox.TryPeek(out _);
        Assert.True(outbox.TryPeek(out var again));
        Assert.Same(first, again);
    }

    [Fact]
    public void OverflowReplacesTheQueueWithAGlobalMarkerAtTheLatestTime()
    {
        var outbox = new InvalidationOutbox(3);
        outbox.Enqueue(new PendingInvalidation(InvalidationKind.Key, ["a", "b"], 10));
        Assert.False(outbox.Enqueue(new PendingInvalidation(InvalidationKind.Key, ["c", "d"], 20)));
        Assert.False(outbox.Enqueue(new PendingInvalidation(InvalidationKind.Tag, ["t"], 30)));
        Assert.Equal(1, outbox.Overflows);
        Assert.Equal(0, outbox.Count);

        Assert.True(outbox.TryPeek(out var marker));
        Assert.Equal(InvalidationKind.All, marker!.Kind);
        Assert.Equal(30, marker.UtcTicks);

        // an invalidation after the marker was read moves it: completing the old marker keeps the new one
        outbox.Enqueue(new PendingInvalidation(InvalidationKind.Key, ["e"], 40));
        outbox.Complete(marker);
        Assert.True(outbox.TryPeek(out var moved));
        Assert.Equal(40, moved!.UtcTicks);
        outbox.Complete(moved);
        Assert.True(outbox.IsEmpty);
        Assert.True(outbox.Enqueue(new PendingInvalidation(InvalidationKind.Key, ["f"], 50)));
    }
}
