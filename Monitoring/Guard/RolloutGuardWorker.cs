using Microsoft.Extensions.Options;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>Runs <see cref="RolloutGuard"/> every <see cref="GuardOptions.Interval"/> (or sooner when woken).</summary>
public sealed class RolloutGuardWorker(
    RolloutGuard guard,
    GuardState state,
    IOptionsMonitor<GuardOptions> options,
    TimeProvider timeProvider,
    ILogger<RolloutGuardWorker> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.CurrentValue.Enabled)
        {
            Log.GuardDisabled(logger);
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await guard.EvaluateOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // One bad evaluation must not end the guard; the next interval tries again.
                Log.EvaluationFailed(logger, e);
            }

            try
            {
                await state.WaitAsync(options.CurrentValue.Interval, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
