namespace OptimizedCache.Cache.Core.Tests;

/// <summary>One factory call per key per process, however many callers; cancellation and errors per caller.</summary>
public sealed class StampedeProtectionTests
{
    [Fact]
    public async Task AThousandConcurrentCallersOfAColdKeyCauseOneFactoryCall()
    {
        using var test = TestCache.Create();
        var calls = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var callers = Enumerable.Range(0, 1000).Select(_ => Task.Run(async () => await test.Cache.GetOrCreateAsync(
            "product:cold",
            async ct =>
            {
                Interlocked.Increment(ref calls);
                await release.Task.WaitAsync(ct);
                return new ImmutableProduct(1, "one");
            }).AsTask())).ToArray();
        await Task.Delay(200);
        release.SetResult();
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.Equal(0, test.Cache.FlightCount);
    }

    [Fact]
    public async Task OneCallerCancellingDoesNotCancelTheOthers()
    {
        using var test = TestCache.Create();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryToken = CancellationToken.None;
        using var leaving = new CancellationTokenSource();

        var leaver = test.Cache.GetOrCreateAsync("k", async ct => { factoryToken = ct; await release.Task; return "v"; }, cancellationToken: leaving.Token).AsTask();
        var stayer = test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("second factory"), cancellationToken: CancellationToken.None).AsTask();
        await WaitUntilAsync(() => factoryToken.CanBeCanceled);
        leaving.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaver);
        Assert.False(factoryToken.IsCancellationRequested);
        release.SetResult();
        Assert.Equal("v", await stayer);
    }

    [Fact]
    public async Task TheFactoryIsCancelledOnlyWhenEveryCallerHasCancelled()
    {
        using var test = TestCache.Create();
        var factoryToken = CancellationToken.None;
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Func<CancellationToken, ValueTask<string>> factory = async ct =>
        {
            factoryToken = ct;
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        };

        var a = test.Cache.GetOrCreateAsync("k", factory, cancellationToken: first.Token).AsTask();
        var b = test.Cache.GetOrCreateAsync("k", factory, cancellationToken: second.Token).AsTask();
        await WaitUntilAsync(() => factoryToken.CanBeCanceled);
        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a);
        var cancelledAfterOne = factoryToken.IsCancellationRequested;
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        await WaitUntilAsync(() => test.Cache.FlightCount == 0);

        Assert.False(cancelledAfterOne);
        Assert.True(factoryToken.IsCancellationRequested);
    }

    [Fact]
    public async Task AFactoryExceptionReachesEveryJoinedCallerAndIsNotCached()
    {
        using var test = TestCache.Create(o => o.FailSafeMaxStaleness = TimeSpan.Zero);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;

        var callers = Enumerable.Range(0, 50).Select(_ => test.Cache.GetOrCreateAsync<string>("k", async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            throw new InvalidOperationException("origin down");
        }).AsTask()).ToArray();
        release.SetResult();

        foreach (var caller in callers)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => caller);
            Assert.Equal("origin down", error.Message);
        }

        Assert.Equal(1, calls);
        Assert.Equal("recovered", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("recovered")));
    }

    [Fact]
    public async Task MutableTypesGiveEachJoinedCallerItsOwnCopy()
    {
        using var test = TestCache.Create();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var callers = Enumerable.Range(0, 10).Select(_ => test.Cache.GetOrCreateAsync("m", async _ =>
        {
            await release.Task;
            return new MutableProduct { Id = 1 };
        }).AsTask()).ToArray();
        release.SetResult();
        var results = await Task.WhenAll(callers);

        Assert.Equal(10, results.Distinct(ReferenceEqualityComparer.Instance).Count());
        Assert.All(results, r => Assert.Equal(1, r.Id));
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "condition not reached within 5 s");
    }
}
