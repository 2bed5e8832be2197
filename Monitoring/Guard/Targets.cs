using System.Globalization;
using N = OptimizedCache.Monitoring.Guard.Measurements.Names;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>A target's verdict.</summary>
public static class TargetStatus
{
    /// <summary>Met.</summary>
    public const string Pass = "pass";

    /// <summary>Met, but close to the limit (memory between warn and alert).</summary>
    public const string Warn = "warn";

    /// <summary>Missed.</summary>
    public const string Fail = "fail";

    /// <summary>Not enough data to tell.</summary>
    public const string NoData = "no-data";
}

/// <summary>One rollout target (seed 001 §6.1 and §9) with its live value.</summary>
/// <param name="Name">Stable name.</param>
/// <param name="Title">What the panel and report print.</param>
/// <param name="Value">The measured value in percent, or null.</param>
/// <param name="Goal">The goal as text (<c>≥ 60%</c>).</param>
/// <param name="Status">A <see cref="TargetStatus"/> value.</param>
/// <param name="Detail">How the value was obtained.</param>
public sealed record TargetResult(string Name, string Title, double? Value, string Goal, string Status, string Detail);

/// <summary>Evaluates the rollout's targets from one window's measurements.</summary>
public static class TargetEvaluator
{
    /// <summary>Evaluates every target.</summary>
    public static IReadOnlyList<TargetResult> Evaluate(Measurements m, Baseline? baseline, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(options);
        var t = options.Targets;
        var min = options.MinimumRequests;
        var results = new List<TargetResult>(5);

        var lookups = m.Value(N.CacheLookups);
        double? hitRate = lookups >= min ? Math.Min(1, (m.Value(N.CacheHits) ?? 0) / lookups.Value) * 100 : null;
        results.Add(new("hit_rate", "Cache hit rate", hitRate, Invariant($"≥ {t.HitRatePercent}%"),
            hitRate is null ? TargetStatus.NoData : hitRate >= t.HitRatePercent ? TargetStatus.Pass : TargetStatus.Fail,
            hitRate is null ? Invariant($"fewer than {min} cache lookups") : Invariant($"{lookups:0} lookups")));

        var cachedRequests = m.Value(N.CachedRequests);
        var bypassRequests = m.Value(N.BypassRequests);
        double? cachedPerRequest = cachedRequests >= min ? (m.Value(N.CachedOriginCalls) ?? 0) / cachedRequests.Value : null;
        double? referencePerRequest = null;
        var referenceName = "bypass path";
        if (bypassRequests >= min)
        {
            referencePerRequest = (m.Value(N.BypassOriginCalls) ?? 0) / bypassRequests.Value;
        }
        else if (baseline?.OriginCallsPerRequest is { } b)
        {
            referencePerRequest = b;
            referenceName = "baseline";
        }

        double? reduction = cachedPerRequest is { } c && referencePerRequest is { } r && r > 0 ? (1 - c / r) * 100 : null;
        results.Add(new("api_call_reduction", "API call reduction", reduction, Invariant($"≥ {t.ApiCallReductionPercent}%"),
            reduction is null ? TargetStatus.NoData : reduction >= t.ApiCallReductionPercent ? TargetStatus.Pass : TargetStatus.Fail,
            reduction is null
                ? "needs enough cached requests and a reference (bypass path or baseline)"
                : Invariant($"{cachedPerRequest:0.###} origin calls per cached request vs {referencePerRequest:0.###} on the {referenceName}")));

        var cachedLatency = cachedRequests >= min ? m.Value(N.CachedLatency) : null;
        double? latencyReference = baseline?.LatencySeconds;
        var latencyReferenceName = "baseline";
        if (latencyReference is null && bypassRequests >= min)
        {
            latencyReference = m.Value(N.BypassLatency);
            latencyReferenceName = "bypass path";
        }

        double? improvement = cachedLatency is { } cl && latencyReference is { } lr && lr > 0 ? (1 - cl / lr) * 100 : null;
        var q = options.Triggers.LatencyQuantile * 100;
        results.Add(new("response_time_improvement", "Response time improvement", improvement, Invariant($"≥ {t.ResponseTimeImprovementPercent}%"),
            improvement is null ? TargetStatus.NoData : improvement >= t.ResponseTimeImprovementPercent ? TargetStatus.Pass : TargetStatus.Fail,
            improvement is null
                ? "needs enough cached requests and a reference (baseline or bypass path)"
                : Invariant($"cached p{q:0.#} {cachedLatency * 1000:0.###} ms vs {latencyReferenceName} {latencyReference * 1000:0.###} ms")));

        double? memory = m.Value(N.MemoryRatio) * 100;
        results.Add(new("memory", "L1 memory of plan", memory, Invariant($"< {t.MemoryWarnPercent}% (alert at {t.MemoryAlertPercent}%)"),
            memory is null ? TargetStatus.NoData
                : memory >= t.MemoryAlertPercent ? TargetStatus.Fail
                : memory >= t.MemoryWarnPercent ? TargetStatus.Warn
                : TargetStatus.Pass,
            memory is null ? "no L1 size or budget series" : Invariant($"largest replica, {m.Value(N.MemoryBytes):0} bytes")));

        var requests = m.Value(N.Requests);
        double? errorRate = requests >= min ? (m.Value(N.Errors) ?? 0) / requests.Value * 100 : null;
        results.Add(new("error_rate", "Error rate", errorRate, Invariant($"≤ {t.ErrorRatePercent}%"),
            errorRate is null ? TargetStatus.NoData : errorRate <= t.ErrorRatePercent ? TargetStatus.Pass : TargetStatus.Fail,
            errorRate is null ? Invariant($"fewer than {min} requests") : Invariant($"{m.Value(N.Errors) ?? 0:0} 5xx of {requests:0} requests")));
        return results;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
