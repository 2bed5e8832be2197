using Microsoft.FeatureManagement;

namespace OptimizedCache.Api.Rollout;

/// <summary>
/// Feature definitions derived from the rollout plan and the phase in force: every cache feature carries
/// the <c>Microsoft.Percentage</c> filter at the phase's percentage. A phase change takes effect on the next
/// evaluation, with no configuration reload.
/// </summary>
internal sealed class PhaseFeatureDefinitionProvider(RolloutCoordinator coordinator) : IFeatureDefinitionProvider
{
    public Task<FeatureDefinition> GetFeatureDefinitionAsync(string featureName) =>
        Task.FromResult(coordinator.GetDefinition(featureName)!);

    public async IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync()
    {
        foreach (var definition in coordinator.GetDefinitions())
        {
            yield return definition;
        }

        await Task.CompletedTask;
    }
}

/// <summary>Loads the stored phase before the server takes requests, follows other replicas' changes, and retries unsaved ones.</summary>
internal sealed class RolloutSyncService(
    RolloutCoordinator coordinator,
    IRolloutStateStore store,
    Microsoft.Extensions.Options.IOptions<RolloutOptions> options,
    TimeProvider timeProvider,
    ILogger<RolloutSyncService> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private IAsyncDisposable? _subscription;
    private Task? _loop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await coordinator.LoadAsync(cancellationToken);
        try
        {
            _subscription = await store.SubscribeAsync(coordinator.ApplyRemoteAsync, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.RolloutStoreFailed(logger, e);
        }

        _loop = LoopAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _stopping.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // the container disposed the service first (a test host torn down while stopping); that cancelled the loop
        }

        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.SyncInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                // Notifications are the fast path; this tick re-reads the store in case one was missed
                // (a reconnect drops messages) and subscribes if the store was down at start.
                if (_subscription is null)
                {
                    try
                    {
                        _subscription = await store.SubscribeAsync(coordinator.ApplyRemoteAsync, cancellationToken);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Log.RolloutStoreFailed(logger, e);
                    }
                }

                await coordinator.SyncAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
