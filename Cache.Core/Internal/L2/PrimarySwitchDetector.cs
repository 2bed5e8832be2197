using StackExchange.Redis;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Tells when a Redis primary is not the one seen before: a failover promoted a replica, a Sentinel switched, a
/// primary restarted (its replication offset went back) or a primary was added. Writes the former primary
/// acknowledged may then be lost, since Redis replicates asynchronously.
/// </summary>
/// <remarks>
/// It asks every connected server for its <c>ROLE</c> (<c>INFO</c> would need admin mode) on the multiplexer's
/// configuration and slot-moved events, when asked (<see cref="Schedule"/>, on a reconnect) and every
/// <see cref="Period"/> in case no event came. One check runs at a time. Servers are never forgotten, so that a
/// primary seen again after all were down still compares with what it was. The first servers seen are the baseline.
/// </remarks>
internal sealed class PrimarySwitchDetector : IDisposable
{
    /// <summary>How often the roles are checked when nothing asked for it.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    private readonly IConnectionMultiplexer _multiplexer;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _clock;
    private readonly Action _onSwitch;
    private readonly Dictionary<string, (bool Primary, long Offset)> _seen = []; // guarded by itself
    private readonly CancellationTokenSource _disposing = new();
    private readonly ITimer _timer;
    private int _pending;

    /// <summary>Starts watching; the first check (the baseline) runs at once.</summary>
    /// <param name="multiplexer">The multiplexer whose servers are watched.</param>
    /// <param name="timeout">The L2 deadline (a check waits at most four of them for a server).</param>
    /// <param name="clock">The system clock.</param>
    /// <param name="onSwitch">Called on a switch, off the multiplexer's threads; must not throw.</param>
    public PrimarySwitchDetector(IConnectionMultiplexer multiplexer, TimeSpan timeout, TimeProvider clock, Action onSwitch)
    {
        _multiplexer = multiplexer;
        _timeout = timeout;
        _clock = clock;
        _onSwitch = onSwitch;
        multiplexer.ConfigurationChanged += OnConfigurationChanged;
        multiplexer.HashSlotMoved += OnHashSlotMoved;
        _timer = clock.CreateTimer(static s => ((PrimarySwitchDetector)s!).Schedule(), this, TimeSpan.Zero, Period);
    }

    /// <summary>Asks for a check (one runs at a time; a request during a check schedules the next).</summary>
    public void Schedule()
    {
        if (!_disposing.IsCancellationRequested && Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _ = Task.Run(CheckAsync);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _multiplexer.ConfigurationChanged -= OnConfigurationChanged;
        _multiplexer.HashSlotMoved -= OnHashSlotMoved;
        _timer.Dispose();
        _disposing.Cancel();
    }

    private void OnConfigurationChanged(object? sender, EndPointEventArgs e) => Schedule();

    private void OnHashSlotMoved(object? sender, HashSlotMovedEventArgs e) => Schedule();

    private async Task CheckAsync()
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _clock, _disposing.Token).ConfigureAwait(false); // let the topology settle
            Volatile.Write(ref _pending, 0);
            var current = new List<(string Endpoint, bool Primary, long Offset)>();
            foreach (var server in _multiplexer.GetServers())
            {
                if (!server.IsConnected)
                {
                    continue;
                }

                try
                {
                    var role = await server.RoleAsync().WaitAsync(_timeout * 4, _clock, _disposing.Token).ConfigureAwait(false);
                    current.Add((RedisConnectionString.Format(server.EndPoint), role is Role.Master, role is Role.Master primary ? primary.ReplicationOffset : 0));
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // this one is not answering now; the others still count
                }
            }

            var switched = false;
            lock (_seen)
            {
                var baseline = _seen.Count == 0;
                foreach (var (endpoint, primary, offset) in current)
                {
                    var seen = _seen.TryGetValue(endpoint, out var known);
                    if (primary && !baseline && (!seen || !known.Primary || offset < known.Offset))
                    {
                        switched = true;
                    }

                    _seen[endpoint] = (primary, offset);
                }
            }

            if (switched)
            {
                _onSwitch();
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            Volatile.Write(ref _pending, 0); // the next event or tick checks again
        }
    }
}
