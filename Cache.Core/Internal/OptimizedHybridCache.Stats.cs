using System.Diagnostics.Metrics;
using OptimizedCache.Cache.Core.Internal;
using M = OptimizedCache.Cache.Core.OptimizedCacheMetrics;

namespace OptimizedCache.Cache.Core;

// Metrics (the OptimizedCache meter, docs/metrics.md) and the statistics API. Hot counters are striped longs read by
// observable instruments, so a hit pays one interlocked increment whether anyone listens or not.
public sealed partial class OptimizedHybridCache
{
    private static readonly string[] EvictionReasonNames = ["capacity", "expired", "memory_pressure", "removed"];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly StripedCounters _counters;
    private readonly TopKeysTracker _topKeys;
    private readonly long[] _evictions = new long[EvictionReasonNames.Length];
    private readonly LatencyHistogram[] _latencies = [.. Enumerable.Range(0, (int)Operation.Count).Select(_ => new LatencyHistogram())];
    private Counter<long> _factoryCalls = null!;
    private Counter<long> _staleServed = null!;
    private Counter<long> _evictionCounter = null!;
    private Counter<long> _invalidations = null!;
    private Histogram<double> _operationDuration = null!;
    private long _eagerRefreshes;
    private long _payloadsTooLarge;
    private long _serializationFailures;

    /// <summary>Operations timed, as (operation, tier) pairs.</summary>
    internal enum Operation
    {
        GetL1,
        GetL2,
        GetOrigin,
        SetL1,
        RemoveL1,
        InvalidateL1,
        Count,
    }

    private static readonly (string Operation, string Tier)[] OperationTags =
        [("get", "l1"), ("get", "l2"), ("get", "origin"), ("set", "l1"), ("remove", "l1"), ("invalidate", "l1")];

    /// <summary>The meter the cache reports on (the L2 and compression parts add their instruments to it).</summary>
    internal Meter Meter => _meter;

    /// <summary>
    /// Hits of any tier over lookups since start-up (0 without traffic). Every lookup starts at L1; an L1 miss that
    /// L2 answers is a hit.
    /// </summary>
    public double GetHitRate()
    {
        var l1Hits = _counters.Sum(CounterKind.L1Hit);
        var lookups = l1Hits + _counters.Sum(CounterKind.L1Miss);
        return lookups == 0 ? 0 : (double)(l1Hits + _counters.Sum(CounterKind.L2Hit)) / lookups;
    }

    /// <summary>L1's estimated size against its budget, and the memory situation of the process.</summary>
    public CacheMemoryUsage GetMemoryUsage() => new()
    {
        UsedBytes = _l1.WeightedSize,
        BudgetBytes = _l1.Capacity,
        ConfiguredBudgetBytes = _budget.ConfiguredBytes,
        Entries = _l1.Count,
        UnderMemoryPressure = _budget.UnderPressure,
        TotalAvailableMemoryBytes = _budget.Last.TotalAvailableBytes,
    };

    /// <summary>Counters by tier and data type, evictions by reason and latency percentiles by operation.</summary>
    public CachePerformanceStats GetPerformanceStats()
    {
        var byType = new Dictionary<string, DataTypeStats>(StringComparer.Ordinal);
        for (var i = 0; i < _dataTypes.Names.Length; i++)
        {
            var stats = new DataTypeStats
            {
                Hits = _counters.Sum(i, CounterKind.L1Hit) + _counters.Sum(i, CounterKind.L2Hit),
                Misses = _counters.Sum(i, CounterKind.L1Miss) - _counters.Sum(i, CounterKind.L2Hit),
                FactoryCalls = _counters.Sum(i, CounterKind.FactorySuccess) + _counters.Sum(i, CounterKind.FactoryError),
            };
            byType[_dataTypes.Names[i]] = stats;
        }

        var operations = new Dictionary<string, OperationLatency>(StringComparer.Ordinal);
        for (var i = 0; i < (int)Operation.Count; i++)
        {
            operations[$"{OperationTags[i].Operation}/{OperationTags[i].Tier}"] = _latencies[i].Snapshot();
        }

        return new CachePerformanceStats
        {
            L1Hits = _counters.Sum(CounterKind.L1Hit),
            L1Misses = _counters.Sum(CounterKind.L1Miss),
            L2Hits = _counters.Sum(CounterKind.L2Hit),
            L2Misses = _counters.Sum(CounterKind.L2Miss),
            HitRate = GetHitRate(),
            FactoryCalls = _counters.Sum(CounterKind.FactorySuccess),
            FactoryErrors = _counters.Sum(CounterKind.FactoryError),
            StaleServed = _counters.Sum(CounterKind.StaleServed),
            EagerRefreshes = Interlocked.Read(ref _eagerRefreshes),
            PayloadsTooLarge = Interlocked.Read(ref _payloadsTooLarge),
            SerializationFailures = Interlocked.Read(ref _serializationFailures),
            Evictions = EvictionReasonNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => Interlocked.Read(ref _evictions[p.i]), StringComparer.Ordinal),
            ByDataType = byType,
            Operations = operations,
        };
    }

    /// <summary>
    /// The keys with the most traffic and their hit rates (Space-Saving over <see cref="OptimizedHybridCacheOptions.TopKeysCapacity"/>
    /// counters; L1 hits are sampled under contention). The only place keys leave the cache.
    /// </summary>
    /// <param name="count">How many keys, at most.</param>
    public IReadOnlyList<KeyTrafficStats> GetTopKeys(int count = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        _l1.DrainReads();
        return _topKeys.Top(Math.Min(count, _topKeys.Capacity));
    }

    private void CreateInstruments()
    {
        var tierResults = new[] { (CounterKind.L1Hit, "l1", "hit"), (CounterKind.L1Miss, "l1", "miss"), (CounterKind.L2Hit, "l2", "hit"), (CounterKind.L2Miss, "l2", "miss") };
        _meter.CreateObservableCounter(M.Requests, () => ObserveRequests(tierResults), "{request}", "Cache lookups by tier and result.");
        _factoryCalls = _meter.CreateCounter<long>(M.FactoryCalls, "{call}", "Factory (origin) calls.");
        _staleServed = _meter.CreateCounter<long>(M.StaleServed, "{entry}", "Expired values served because the factory failed.");
        _evictionCounter = _meter.CreateCounter<long>(M.Evictions, "{entry}", "Entries leaving L1, by reason.");
        _invalidations = _meter.CreateCounter<long>(M.Invalidations, "{invalidation}", "Invalidations by kind and source.");
        _meter.CreateObservableGauge(M.L1Size, () => _l1.WeightedSize, "By", "Estimated bytes held by L1.");
        _meter.CreateObservableGauge(M.L1Budget, () => _l1.Capacity, "By", "The L1 byte budget in force.");
        _meter.CreateObservableGauge(M.L1Entries, () => (long)_l1.Count, "{entry}", "L1 entries.");
        _operationDuration = _meter.CreateHistogram(
            M.OperationDuration,
            "s",
            "Cache operation durations.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = M.LatencyBuckets });
    }

    private IEnumerable<Measurement<long>> ObserveRequests((CounterKind Kind, string Tier, string Result)[] series)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var (kind, tier, result) in series)
        {
            if (tier == "l2" && _l2 is null)
            {
                continue;
            }

            for (var dataType = 0; dataType < _dataTypes.Names.Length; dataType++)
            {
                measurements.Add(new Measurement<long>(
                    _counters.Sum(dataType, kind),
                    new KeyValuePair<string, object?>(M.TierTag, tier),
                    new KeyValuePair<string, object?>(M.ResultTag, result),
                    new KeyValuePair<string, object?>(M.DataTypeTag, _dataTypes.Names[dataType])));
            }
        }

        return measurements;
    }

    private void CountFactoryCall(int dataType, bool success)
    {
        _counters.Increment(dataType, success ? CounterKind.FactorySuccess : CounterKind.FactoryError);
        _factoryCalls.Add(1, new(M.DataTypeTag, _dataTypes.Names[dataType]), new(M.OutcomeTag, success ? "success" : "error"));
    }

    private void CountStaleServed(int dataType)
    {
        _counters.Increment(dataType, CounterKind.StaleServed);
        _staleServed.Add(1, new KeyValuePair<string, object?>(M.DataTypeTag, _dataTypes.Names[dataType]));
    }

    private void OnEvicted(L1Entry entry, EvictionReason reason)
    {
        Interlocked.Increment(ref _evictions[(int)reason]);
        _evictionCounter.Add(1, new KeyValuePair<string, object?>(M.ReasonTag, EvictionReasonNames[(int)reason]));
    }

    private void RecordDuration(Operation operation, long startTimestamp)
    {
        var seconds = _time.GetElapsedTime(startTimestamp).TotalSeconds;
        _latencies[(int)operation].Record(seconds);
        if (_operationDuration.Enabled)
        {
            var (name, tier) = OperationTags[(int)operation];
            _operationDuration.Record(seconds, new(M.OperationTag, name), new(M.TierTag, tier));
        }
    }
}
