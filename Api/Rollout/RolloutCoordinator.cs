using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using OptimizedCache.Api.Caching;
using OptimizedCache.Api.Telemetry;

namespace OptimizedCache.Api.Rollout;

/// <summary>What an admin asks of the rollout.</summary>
public enum RolloutAction
{
    /// <summary>Go to a given phase.</summary>
    Set,

    /// <summary>Go one phase forward.</summary>
    Advance,

    /// <summary>Go one phase back.</summary>
    RollbackCurrent,

    /// <summary>Go to phase 0.</summary>
    RollbackComplete,
}

/// <summary>
/// Holds the phase in force on this replica and the feature definitions derived from it. A change applies
/// locally first, so it holds even when the store is unreachable (a rollback must never wait on Redis),
/// then is stored and published; a state saved by another replica is applied when its version is newer.
/// </summary>
public sealed class RolloutCoordinator
{
    private const string PercentageFilterName = "Microsoft.Percentage";

    private readonly IRolloutStateStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RolloutCoordinator> _logger;
    private readonly int _historyLimit;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile Snapshot _current;
    private volatile bool _persisted = true;

    /// <summary>Creates the coordinator at the configured initial phase; <see cref="LoadAsync"/> then reads the stored one.</summary>
    public RolloutCoordinator(
        IOptions<RolloutOptions> options, IRolloutStateStore store, TimeProvider timeProvider, ApiMetrics metrics, ILogger<RolloutCoordinator> logger)
    {
        var o = options.Value;
        Plan = RolloutPlan.Presets.TryGetValue(o.Plan, out var plan)
            ? plan
            : throw new ArgumentException($"Rollout:Plan '{o.Plan}' is not one of {string.Join(", ", RolloutPlan.Presets.Keys)}.", nameof(options));
        _store = store;
        _timeProvider = timeProvider;
        _logger = logger;
        _historyLimit = o.HistoryLimit;
        if (o.InitialPhase > Plan.LastPhase)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), o.InitialPhase, $"Rollout:InitialPhase is {o.InitialPhase}; plan '{Plan.Name}' has phases 0 to {Plan.LastPhase}.");
        }

        // Version 0: a start-up default, never stored; any phase a replica decided (version 1 and up) replaces it.
        _current = BuildSnapshot(new RolloutState(Plan.Name, o.InitialPhase, 0, []));

        metrics.Meter.CreateObservableGauge(ApiMetrics.RolloutPhase, () => _current.State.Phase, "{phase}", "The rollout phase in force on this replica.");
        metrics.Meter.CreateObservableGauge(
            ApiMetrics.FeaturePercentage,
            () => CacheFeatures.All.Select(f => new Measurement<int>(_current.Phase.PercentageOf(f), new KeyValuePair<string, object?>("feature", f))),
            "{percent}",
            "Each cache feature's percentage in the phase in force.");
    }

    /// <summary>The plan in use.</summary>
    public RolloutPlan Plan { get; }

    /// <summary>The state in force on this replica.</summary>
    public RolloutState State => _current.State;

    /// <summary>Whether the state in force has reached the store (false while Redis is unreachable).</summary>
    public bool Persisted => _persisted;

    /// <summary>Whether the store is shared with other replicas.</summary>
    public bool Shared => _store.IsShared;

    /// <summary>The features' percentages in force.</summary>
    public IReadOnlyDictionary<string, int> Percentages => CacheFeatures.All.ToDictionary(f => f, _current.Phase.PercentageOf);

    internal FeatureDefinition? GetDefinition(string feature) => _current.Definitions.GetValueOrDefault(feature);

    internal IEnumerable<FeatureDefinition> GetDefinitions() => _current.Definitions.Values;

    /// <summary>Reads the stored state (at start); with the store unreachable the configured initial phase stays.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await _store.LoadAsync(cancellationToken) is { } stored)
            {
                ApplyIfNewer(stored, "store");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.RolloutStoreFailed(_logger, e);
        }
    }

    /// <summary>Applies a state another replica saved, when it is newer than this one's.</summary>
    public Task ApplyRemoteAsync(RolloutState state)
    {
        ApplyIfNewer(state, "notification");
        return Task.CompletedTask;
    }

    /// <summary>Re-reads the store, or stores a local change that could not be stored before.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var stored = await _store.LoadAsync(cancellationToken);
            if (!_persisted)
            {
                // A change made while the store was unreachable (a local rollback) wins over what the store
                // holds: it was the last decision an operator or the guard made.
                var local = _current.State;
                var version = Math.Max(local.Version, stored?.Version ?? 0) + 1;
                var merged = local with { Version = version };
                await _store.SaveAsync(merged, cancellationToken);
                _current = BuildSnapshot(merged);
                _persisted = true;
                Log.RolloutStoreRecovered(_logger, merged.Phase);
            }
            else if (_current.State is { Version: > 0 } held && (stored is null || stored.Version < held.Version))
            {
                // The store lost the decided phase (Redis flushed, restarted without persistence, or replaced):
                // put it back unless another replica put back a newer one first, so every replica, a restarted one
                // included, ends on the last decision instead of its configured initial phase.
                var winner = await _store.ReassertAsync(held, cancellationToken);
                if (ReferenceEquals(winner, held))
                {
                    Log.RolloutReasserted(_logger, held.Phase, held.Version);
                }
                else
                {
                    ApplyIfNewer(winner, "store");
                }
            }
            else if (stored is not null)
            {
                ApplyIfNewer(stored, "store");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.RolloutStoreFailed(_logger, e);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Changes the phase. Throws <see cref="ArgumentOutOfRangeException"/> for a phase outside the plan and
    /// <see cref="InvalidOperationException"/> (a conflict, naming the phase in force) when the phase in force is not
    /// <paramref name="expectedFrom"/>, when advancing past the last phase, or when rolling back at phase 0.
    /// Setting the phase in force changes nothing and records nothing.
    /// </summary>
    public async Task<RolloutChange?> ChangeAsync(
        RolloutAction action, int? phase, string actor, string reason, int? expectedFrom, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var before = _current.State;
            if (expectedFrom is { } from && from != before.Phase)
            {
                throw new InvalidOperationException($"The phase in force is {before.Phase}, not {from} as the request expected; nothing was changed.");
            }

            var to = action switch
            {
                RolloutAction.Set => phase is { } p && p >= 0 && p <= Plan.LastPhase
                    ? p
                    : throw new ArgumentOutOfRangeException(nameof(phase), phase, $"Phase {phase} is not in plan '{Plan.Name}' (0 to {Plan.LastPhase})."),
                RolloutAction.Advance => before.Phase < Plan.LastPhase
                    ? before.Phase + 1
                    : throw new InvalidOperationException($"Phase {before.Phase} is the last phase of plan '{Plan.Name}'."),
                _ => before.Phase > 0
                    ? action == RolloutAction.RollbackCurrent ? before.Phase - 1 : 0
                    : throw new InvalidOperationException("The phase in force is 0 (the cache is off); there is nothing to roll back."),
            };
            if (to == before.Phase)
            {
                return null;
            }

            var change = new RolloutChange(_timeProvider.GetUtcNow(), actor, ActionName(action), before.Phase, to, reason);
            var after = new RolloutState(Plan.Name, to, before.Version + 1, [change, .. before.History.Take(_historyLimit - 1)]);
            _current = BuildSnapshot(after);
            Log.RolloutChanged(_logger, ActionName(action), before.Phase, to, actor, reason);
            try
            {
                await _store.SaveAsync(after, cancellationToken);
                _persisted = true;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _persisted = false;
                Log.RolloutNotPersisted(_logger, to, e);
            }

            return change;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void ApplyIfNewer(RolloutState state, string source)
    {
        var current = _current.State;

        // A local change still waiting to be stored wins until it is stored (see SyncAsync).
        if (!_persisted || state.Version <= current.Version)
        {
            return;
        }

        if (!string.Equals(state.Plan, Plan.Name, StringComparison.OrdinalIgnoreCase))
        {
            Log.RolloutPlanMismatch(_logger, state.Plan, Plan.Name);
        }

        var clamped = state with { Plan = Plan.Name, Phase = Math.Clamp(state.Phase, 0, Plan.LastPhase) };
        _current = BuildSnapshot(clamped);
        if (clamped.Phase != current.Phase)
        {
            Log.RolloutApplied(_logger, current.Phase, clamped.Phase, source);
        }
    }

    private Snapshot BuildSnapshot(RolloutState state)
    {
        var phase = Plan.Phases[Math.Clamp(state.Phase, 0, Plan.LastPhase)];
        var definitions = CacheFeatures.All.ToDictionary(
            f => f,
            f =>
            {
                var percent = phase.PercentageOf(f);
                return new FeatureDefinition
                {
                    Name = f,
                    RequirementType = RequirementType.Any,
                    EnabledFor =
                    [
                        new FeatureFilterConfiguration
                        {
                            Name = PercentageFilterName,
                            Parameters = new ConfigurationBuilder()
                                .AddInMemoryCollection([new("Value", percent.ToString(CultureInfo.InvariantCulture))])
                                .Build(),
                            ParametersObject = new PercentageFilterSettings { Value = percent },
                        },
                    ],
                };
            },
            StringComparer.OrdinalIgnoreCase);
        return new Snapshot(state, phase, definitions);
    }

    private static string ActionName(RolloutAction action) => action switch
    {
        RolloutAction.Set => "set",
        RolloutAction.Advance => "advance",
        RolloutAction.RollbackCurrent => "rollback-current",
        _ => "rollback-complete",
    };

    private sealed record Snapshot(RolloutState State, RolloutPhase Phase, IReadOnlyDictionary<string, FeatureDefinition> Definitions);
}
