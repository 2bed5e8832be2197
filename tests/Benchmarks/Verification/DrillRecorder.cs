using System.Diagnostics;
using System.Text.Json.Nodes;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>One sampling interval of a drill or soak: the load's counts and the replicas' metrics.</summary>
internal sealed class DrillSample
{
    /// <summary>Seconds since the recording started (end of the interval).</summary>
    public double T { get; init; }

    public required LoadInterval Load { get; init; }

    /// <summary>L2 hits in the interval, summed over replicas (<c>optimizedcache_requests_total{tier="l2",result="hit"}</c>).</summary>
    public double L2Hits { get; init; }

    /// <summary>L2 errors in the interval (<c>optimizedcache_l2_errors_total</c>).</summary>
    public double L2Errors { get; init; }

    /// <summary>Stale values served in the interval (<c>optimizedcache_stale_served_total</c>).</summary>
    public double StaleServed { get; init; }

    /// <summary>Highest circuit state over replicas (0 closed, 1 half-open, 2 open); null when no replica exports it.</summary>
    public double? CircuitState { get; init; }

    /// <summary>Highest L1 size / L1 budget over replicas; null when not exported.</summary>
    public double? L1Fill { get; init; }

    public double L1SizeBytes { get; init; }

    public double L1BudgetBytes { get; init; }

    /// <summary>Largest working set over replicas.</summary>
    public double WorkingSetBytes { get; init; }

    /// <summary>Largest over replicas of working set minus L1 size: the memory the cache's own accounting does not explain.</summary>
    public double WorkingSetExcludingL1Bytes { get; init; }

    /// <summary>
    /// Largest over replicas of the live heap the latest gen-2 collection found (<c>optimizedcache_gc_live_size_bytes</c>)
    /// minus L1 size; NaN when no replica exports it.
    /// </summary>
    public double LiveExcludingL1Bytes { get; init; } = double.NaN;

    /// <summary>Largest over replicas of the live heap after the latest gen-2 collection; NaN when not exported.</summary>
    public double LiveBytes { get; init; } = double.NaN;

    /// <summary>Sum of the replicas' GC heap sizes after their last collections.</summary>
    public double HeapBytes { get; init; }

    /// <summary>GC collections in the interval, every generation, summed over replicas.</summary>
    public double GcCollections { get; init; }

    /// <summary>Gen-2 collections in the interval.</summary>
    public double Gen2Collections { get; init; }

    /// <summary>Cache hits over cache lookups (L1 hit or L2 hit over L1 lookups) in the interval; NaN without lookups.</summary>
    public double HitRatio { get; init; }

    /// <summary>Replicas whose <c>/metrics</c> did not answer.</summary>
    public int Unreachable { get; init; }

    public JsonObject ToJson() => new()
    {
        ["t"] = Json.Num(T, 2),
        ["requests"] = Load.Requests,
        ["failures"] = Load.Failures,
        ["p50Ms"] = Json.Num(Load.Latency.PercentileMs(50)),
        ["p99Ms"] = Json.Num(Load.Latency.PercentileMs(99)),
        ["maxMs"] = Json.Num(Load.Latency.MaxMs),
        ["l2Hits"] = Json.Num(L2Hits, 0),
        ["l2Errors"] = Json.Num(L2Errors, 0),
        ["staleServed"] = Json.Num(StaleServed, 0),
        ["circuitState"] = Json.Num(CircuitState, 0),
        ["l1Fill"] = Json.Num(L1Fill, 4),
        ["l1SizeBytes"] = Json.Num(L1SizeBytes, 0),
        ["l1BudgetBytes"] = Json.Num(L1BudgetBytes, 0),
        ["workingSetBytes"] = Json.Num(WorkingSetBytes, 0),
        ["workingSetExcludingL1Bytes"] = Json.Num(WorkingSetExcludingL1Bytes, 0),
        ["heapBytes"] = Json.Num(HeapBytes, 0),
        ["liveBytes"] = Json.Num(LiveBytes, 0),
        ["liveExcludingL1Bytes"] = Json.Num(LiveExcludingL1Bytes, 0),
        ["gcCollections"] = Json.Num(GcCollections, 0),
        ["gen2Collections"] = Json.Num(Gen2Collections, 0),
        ["hitRatio"] = Json.Num(HitRatio, 4),
        ["unreachable"] = Unreachable,
    };
}

/// <summary>
/// Runs a <see cref="LoadGenerator"/> and samples it and every replica's <c>/metrics</c> on an interval, with events
/// marked on the same clock, so a drill reads "failures between the fault and the recovery" off one timeline.
/// Bounded: one sample per interval for the recording's length.
/// </summary>
internal sealed class DrillRecorder : IAsyncDisposable
{
    private const int MaxSamples = 200_000;
    private readonly LoadGenerator _load;
    private readonly IReadOnlyList<ApiClient> _apis;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<DrillSample> _samples = [];
    private readonly List<(double T, string Event)> _events = [];
    private readonly object _lock = new();
    private Task? _loadTask;
    private Task? _sampler;

    public DrillRecorder(LoadGenerator load, IReadOnlyList<ApiClient> apis, TimeSpan interval)
    {
        _load = load;
        _apis = apis;
        _interval = interval;
    }

    /// <summary>Optional: called with each sample (progress lines).</summary>
    public Action<DrillSample>? OnSample { get; set; }

    /// <summary>Seconds since the start.</summary>
    public double Now => _clock.Elapsed.TotalSeconds;

    public IReadOnlyList<DrillSample> Samples
    {
        get
        {
            lock (_lock)
            {
                return [.. _samples];
            }
        }
    }

    public IReadOnlyList<(double T, string Event)> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public async Task StartAsync()
    {
        var first = await Task.WhenAll(_apis.Select(a => a.ScrapeAsync()));
        _loadTask = _load.RunAsync(_stop.Token);
        _sampler = SampleAsync(first, _stop.Token);
    }

    /// <summary>Marks an event on the timeline and prints it.</summary>
    public double Mark(string @event)
    {
        var t = Now;
        lock (_lock)
        {
            _events.Add((t, @event));
        }

        VerificationTool.Progress($"t={t:0.0}s {@event}");
        return t;
    }

    /// <summary>Samples whose interval ended in (from, to].</summary>
    public IReadOnlyList<DrillSample> Between(double from, double to) => [.. Samples.Where(s => s.T > from && s.T <= to)];

    /// <summary>The load of samples in (from, to], summed.</summary>
    public LoadInterval LoadBetween(double from, double to)
    {
        var sum = new LoadInterval();
        foreach (var s in Between(from, to))
        {
            sum.Add(s.Load);
        }

        return sum;
    }

    /// <summary>Stops the load and the sampler (one last sample is taken).</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        if (_loadTask is not null)
        {
            await _loadTask;
        }

        if (_sampler is not null)
        {
            await _sampler;
        }
    }

    public JsonObject ToJson() => new()
    {
        ["intervalSeconds"] = _interval.TotalSeconds,
        ["events"] = new JsonArray([.. Events.Select(e => (JsonNode?)new JsonObject { ["t"] = Json.Num(e.T, 2), ["event"] = e.Event })]),
        ["samples"] = new JsonArray([.. Samples.Select(s => (JsonNode?)s.ToJson())]),
    };

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task SampleAsync(MetricsSnapshot[] previous, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval);
        var last = previous;
        while (true)
        {
            var stopping = false;
            try
            {
                await timer.WaitForNextTickAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                stopping = true;
            }

            var now = await Task.WhenAll(_apis.Select(a => a.ScrapeAsync(CancellationToken.None)));
            var sample = Build(Now, _load.TakeInterval(), last, now);
            last = [.. now.Select((n, i) => ReferenceEquals(n, MetricsSnapshot.Empty) ? last[i] : n)];
            lock (_lock)
            {
                if (_samples.Count < MaxSamples)
                {
                    _samples.Add(sample);
                }
            }

            OnSample?.Invoke(sample);
            if (stopping)
            {
                return;
            }
        }
    }

    private static DrillSample Build(double t, LoadInterval load, MetricsSnapshot[] before, MetricsSnapshot[] after)
    {
        double Delta(Func<MetricsSnapshot, double> pick) => after.Select((a, i) => ReferenceEquals(a, MetricsSnapshot.Empty) ? 0 : Math.Max(0, pick(a) - pick(before[i]))).Sum();
        var live = after.Where(a => !ReferenceEquals(a, MetricsSnapshot.Empty)).ToList();
        var l1Lookups = Delta(m => m.Sum("optimizedcache_requests_total", ("tier", "l1")));
        var hits = Delta(m => m.Sum("optimizedcache_requests_total", ("result", "hit")));
        var fills = live.Where(m => m.Has("optimizedcache_l1_budget_bytes") && m.Sum("optimizedcache_l1_budget_bytes") > 0)
            .Select(m => m.Sum("optimizedcache_l1_size_bytes") / m.Sum("optimizedcache_l1_budget_bytes")).ToList();
        var gcLive = live.Where(m => m.Has("optimizedcache_gc_live_size_bytes")).ToList();
        var circuits = live.Where(m => m.Has("optimizedcache_l2_circuit_state")).Select(m => m.Sum("optimizedcache_l2_circuit_state")).ToList();
        return new DrillSample
        {
            T = t,
            Load = load,
            L2Hits = Delta(m => m.Sum("optimizedcache_requests_total", ("tier", "l2"), ("result", "hit"))),
            L2Errors = Delta(m => m.Sum("optimizedcache_l2_errors_total")),
            StaleServed = Delta(m => m.Sum("optimizedcache_stale_served_total")),
            CircuitState = circuits.Count == 0 ? null : circuits.Max(),
            L1Fill = fills.Count == 0 ? null : fills.Max(),
            L1SizeBytes = live.Count == 0 ? 0 : live.Max(m => m.Sum("optimizedcache_l1_size_bytes")),
            L1BudgetBytes = live.Count == 0 ? 0 : live.Max(m => m.Sum("optimizedcache_l1_budget_bytes")),
            WorkingSetBytes = live.Count == 0 ? 0 : live.Max(m => m.Sum("dotnet_process_memory_working_set_bytes")),
            WorkingSetExcludingL1Bytes = live.Count == 0 ? 0 : live.Max(m => m.Sum("dotnet_process_memory_working_set_bytes") - m.Sum("optimizedcache_l1_size_bytes")),
            HeapBytes = live.Sum(m => m.Sum("dotnet_gc_last_collection_heap_size_bytes")),
            LiveBytes = gcLive.Count == 0 ? double.NaN : gcLive.Max(m => m.Sum("optimizedcache_gc_live_size_bytes")),
            LiveExcludingL1Bytes = gcLive.Count == 0 ? double.NaN : gcLive.Max(m => m.Sum("optimizedcache_gc_live_size_bytes") - m.Sum("optimizedcache_l1_size_bytes")),
            GcCollections = Delta(m => m.Sum("dotnet_gc_collections_total")),
            Gen2Collections = Delta(m => m.Sum("dotnet_gc_collections_total", ("gc_heap_generation", "gen2"))),
            HitRatio = l1Lookups > 0 ? hits / l1Lookups : double.NaN,
            Unreachable = after.Length - live.Count,
        };
    }
}
