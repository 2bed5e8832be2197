namespace OptimizedCache.Api.Rollout;

/// <summary>The rollout's stored state: the phase in force, a version that orders changes, and the recent history.</summary>
/// <param name="Plan">The plan the phase refers to.</param>
/// <param name="Phase">The phase in force.</param>
/// <param name="Version">Increases with every change; a replica applies only a newer version than its own.</param>
/// <param name="History">The latest changes, newest first, bounded.</param>
public sealed record RolloutState(string Plan, int Phase, long Version, IReadOnlyList<RolloutChange> History);

/// <summary>One recorded change.</summary>
/// <param name="At">When.</param>
/// <param name="Actor">Who (the <c>X-Actor</c> header).</param>
/// <param name="Action">What was asked: <c>set</c>, <c>advance</c>, <c>rollback-current</c>, <c>rollback-complete</c>.</param>
/// <param name="From">The phase before.</param>
/// <param name="To">The phase after.</param>
/// <param name="Reason">Why.</param>
public sealed record RolloutChange(DateTimeOffset At, string Actor, string Action, int From, int To, string Reason);

/// <summary>
/// Where the rollout state lives. The Redis store shares it between replicas and keeps it across restarts;
/// the in-memory store serves a single replica without Redis.
/// </summary>
public interface IRolloutStateStore
{
    /// <summary>Whether the state is shared with other replicas.</summary>
    bool IsShared { get; }

    /// <summary>The stored state, or null when none was stored yet.</summary>
    Task<RolloutState?> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Stores the state and tells every replica.</summary>
    Task SaveAsync(RolloutState state, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="state"/> only if the store holds no state or an older version (after Redis lost its
    /// data), and tells every replica when it did. Returns the state in force in the store afterwards: this one, or
    /// the newer one another replica stored first.
    /// </summary>
    Task<RolloutState> ReassertAsync(RolloutState state, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="onChange"/> whenever another replica saves a state.</summary>
    Task<IAsyncDisposable> SubscribeAsync(Func<RolloutState, Task> onChange, CancellationToken cancellationToken);
}

/// <summary>The rollout state in this process only.</summary>
public sealed class InMemoryRolloutStateStore : IRolloutStateStore
{
    private volatile RolloutState? _state;

    /// <inheritdoc />
    public bool IsShared => false;

    /// <inheritdoc />
    public Task<RolloutState?> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(_state);

    /// <inheritdoc />
    public Task SaveAsync(RolloutState state, CancellationToken cancellationToken)
    {
        _state = state;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<RolloutState> ReassertAsync(RolloutState state, CancellationToken cancellationToken)
    {
        if (_state is not { } stored || stored.Version < state.Version)
        {
            _state = state;
        }

        return Task.FromResult(_state!);
    }

    /// <inheritdoc />
    public Task<IAsyncDisposable> SubscribeAsync(Func<RolloutState, Task> onChange, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable>(NoSubscription.Instance);

    private sealed class NoSubscription : IAsyncDisposable
    {
        public static readonly NoSubscription Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
