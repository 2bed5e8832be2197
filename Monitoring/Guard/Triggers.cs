using System.Globalization;
using System.Text.Json.Serialization;
using N = OptimizedCache.Monitoring.Guard.Measurements.Names;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>A trigger's state; the numbers are the <c>rollout_guard_trigger_state</c> gauge's values.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TriggerState>))]
public enum TriggerState
{
    /// <summary>Evaluated and not holding.</summary>
    Ok = 0,

    /// <summary>Holding: a rollback reason.</summary>
    Firing = 1,

    /// <summary>Too few requests in the window, no reference, or no data at all.</summary>
    InsufficientData = 2,
}

/// <summary>The outcome of one trigger in one evaluation, with its evidence.</summary>
/// <param name="Name">The trigger (<see cref="TriggerNames"/>).</param>
/// <param name="State">Its state.</param>
/// <param name="Value">The measured value (unit in <paramref name="Unit"/>), when there was one.</param>
/// <param name="Threshold">The value at which it fires, in the same unit.</param>
/// <param name="Reference">The reference compared with (baseline or bypass path), when the trigger compares.</param>
/// <param name="Requests">Requests the trigger's figures cover.</param>
/// <param name="Unit">The unit of the values.</param>
/// <param name="Summary">One line a person reads: what was measured against what.</param>
/// <param name="MissingData">True when the series were absent altogether (not merely too few requests).</param>
/// <param name="Evidence">The figures and queries behind the decision.</param>
public sealed record TriggerResult(
    string Name,
    TriggerState State,
    double? Value,
    double? Threshold,
    double? Reference,
    double? Requests,
    string Unit,
    string Summary,
    bool MissingData,
    IReadOnlyList<Figure> Evidence);

/// <summary>Trigger names (the <c>trigger</c> tag of the guard's metrics).</summary>
public static class TriggerNames
{
    /// <summary>Error rate rose over the reference.</summary>
    public const string ErrorRate = "error_rate";

    /// <summary>The cached path's latency worsened.</summary>
    public const string ResponseTime = "response_time";

    /// <summary>L1 memory over plan.</summary>
    public const string Memory = "memory";

    /// <summary>Hit ratio too low.</summary>
    public const string HitRatio = "hit_ratio";

    /// <summary>All, in evaluation order.</summary>
    public static readonly IReadOnlyList<string> All = [ErrorRate, ResponseTime, Memory, HitRatio];
}

/// <summary>
/// The seed's rollback triggers (seed 001 §7.1) as pure functions of one window's <see cref="Measurements"/>; the
/// rules are spelled out in Monitoring/README.md.
/// </summary>
public static class TriggerEvaluator
{
    /// <summary>Evaluates every trigger.</summary>
    public static IReadOnlyList<TriggerResult> Evaluate(Measurements m, Baseline? baseline, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(options);
        return [ErrorRate(m, baseline, options), ResponseTime(m, baseline, options), Memory(m, options), HitRatio(m, options)];
    }

    private static TriggerResult ErrorRate(Measurements m, Baseline? baseline, GuardOptions o)
    {
        var evidence = Evidence(m, N.Requests, N.Errors, N.BypassRequests, N.BypassErrors);
        var threshold = o.Triggers.ErrorRateIncreasePoints;
        var requests = m.Value(N.Requests);
        if (Insufficient(requests, o, out var missing, out var why))
        {
            return new(TriggerNames.ErrorRate, TriggerState.InsufficientData, null, null, null, requests, "percent", why, missing, evidence);
        }

        var current = (m.Value(N.Errors) ?? 0) / requests!.Value * 100;
        double? reference = null;
        string referenceName;
        if (baseline is not null)
        {
            reference = baseline.ErrorRate * 100;
            referenceName = "baseline";
        }
        else
        {
            referenceName = "bypass path";
            var bypass = m.Value(N.BypassRequests);
            if (bypass >= o.MinimumRequests)
            {
                reference = (m.Value(N.BypassErrors) ?? 0) / bypass.Value * 100;
            }
        }

        if (reference is null)
        {
            return new(TriggerNames.ErrorRate, TriggerState.InsufficientData, current, null, null, requests, "percent",
                Invariant($"error rate {current:0.###}% but no reference: no baseline and fewer than {o.MinimumRequests} bypass requests"),
                false, evidence);
        }

        var rise = current - reference.Value;
        var firing = rise >= threshold;
        return new(TriggerNames.ErrorRate, firing ? TriggerState.Firing : TriggerState.Ok, current, reference + threshold, reference,
            requests, "percent",
            Invariant($"error rate {current:0.###}% vs {referenceName} {reference:0.###}% (+{rise:0.###} points; fires at +{threshold} points) over {requests:0} requests"),
            false, evidence);
    }

    private static TriggerResult ResponseTime(Measurements m, Baseline? baseline, GuardOptions o)
    {
        var evidence = Evidence(m, N.CachedRequests, N.CachedLatency, N.BypassRequests, N.BypassLatency);
        var requests = m.Value(N.CachedRequests);
        var factor = 1 + o.Triggers.LatencyIncreasePercent / 100;
        if (Insufficient(requests, o, out var missing, out var why))
        {
            return new(TriggerNames.ResponseTime, TriggerState.InsufficientData, null, null, null, requests, "seconds", "cached path: " + why, missing, evidence);
        }

        var cached = m.Value(N.CachedLatency);
        if (cached is null)
        {
            return new(TriggerNames.ResponseTime, TriggerState.InsufficientData, null, null, null, requests, "seconds",
                "no latency histogram for the cached path", true, evidence);
        }

        var references = new List<(string Name, double Seconds)>();
        if (baseline?.LatencySeconds is { } b && b > 0)
        {
            references.Add(("baseline", b));
        }

        if (m.Value(N.BypassRequests) >= o.MinimumRequests && m.Value(N.BypassLatency) is { } bypass && bypass > 0)
        {
            references.Add(("bypass path", bypass));
        }

        if (references.Count == 0)
        {
            return new(TriggerNames.ResponseTime, TriggerState.InsufficientData, cached, null, null, requests, "seconds",
                Invariant($"cached p{o.Triggers.LatencyQuantile * 100:0.#} {cached * 1000:0.###} ms but no reference: no baseline and fewer than {o.MinimumRequests} bypass requests"),
                false, evidence);
        }

        // Fires only when the cached path is slower than every reference it has: a slowdown the bypass path shares
        // is not the cache's doing, and rolling back would not cure it.
        var firing = references.All(r => cached >= r.Seconds * factor);
        var nearest = references.MaxBy(r => r.Seconds);
        var parts = string.Join(", ", references.Select(r => Invariant($"{r.Name} {r.Seconds * 1000:0.###} ms ({(cached.Value / r.Seconds - 1) * 100:+0.#;-0.#}%)")));
        return new(TriggerNames.ResponseTime, firing ? TriggerState.Firing : TriggerState.Ok, cached, nearest.Seconds * factor, nearest.Seconds,
            requests, "seconds",
            Invariant($"cached p{o.Triggers.LatencyQuantile * 100:0.#} {cached * 1000:0.###} ms vs {parts}; fires at +{o.Triggers.LatencyIncreasePercent}% over every reference, over {requests:0} cached requests"),
            false, evidence);
    }

    private static TriggerResult Memory(Measurements m, GuardOptions o)
    {
        var evidence = Evidence(m, N.CacheLookups, N.MemoryBytes, N.MemoryRatio);
        var requests = m.Value(N.CacheLookups);
        var threshold = o.Triggers.MemoryPlanPercent;
        if (Insufficient(requests, o, out var missing, out var why))
        {
            return new(TriggerNames.Memory, TriggerState.InsufficientData, null, threshold, 100, requests, "percent", "cache lookups: " + why, missing, evidence);
        }

        if (m.Value(N.MemoryRatio) is not { } ratio)
        {
            return new(TriggerNames.Memory, TriggerState.InsufficientData, null, threshold, 100, requests, "percent",
                "no L1 size or budget series", true, evidence);
        }

        var percent = ratio * 100;
        var plan = o.Triggers.PlannedMemoryBytes is { } p ? Invariant($"a plan of {p} bytes") : "its budget";
        return new(TriggerNames.Memory, percent > threshold ? TriggerState.Firing : TriggerState.Ok, percent, threshold, 100, requests, "percent",
            Invariant($"L1 memory at {percent:0.#}% of {plan} (largest replica, window average; fires above {threshold}%)"),
            false, evidence);
    }

    private static TriggerResult HitRatio(Measurements m, GuardOptions o)
    {
        var evidence = Evidence(m, N.CacheLookups, N.CacheHits);
        var requests = m.Value(N.CacheLookups);
        var threshold = o.Triggers.HitRatioMinimumPercent;
        if (Insufficient(requests, o, out var missing, out var why))
        {
            return new(TriggerNames.HitRatio, TriggerState.InsufficientData, null, threshold, null, requests, "percent", "cache lookups: " + why, missing, evidence);
        }

        var percent = Math.Min(1, (m.Value(N.CacheHits) ?? 0) / requests!.Value) * 100;
        return new(TriggerNames.HitRatio, percent < threshold ? TriggerState.Firing : TriggerState.Ok, percent, threshold, null, requests, "percent",
            Invariant($"hit ratio {percent:0.#}% over {requests:0} lookups (fires below {threshold}%)"),
            false, evidence);
    }

    private static bool Insufficient(double? requests, GuardOptions o, out bool missing, out string why)
    {
        missing = requests is null;
        if (requests is null)
        {
            why = "no data (series absent)";
            return true;
        }

        if (requests < o.MinimumRequests)
        {
            why = Invariant($"{requests:0} requests in the window, fewer than the {o.MinimumRequests} required");
            return true;
        }

        why = string.Empty;
        return false;
    }

    private static Figure[] Evidence(Measurements m, params string[] names) => [.. names.Select(n => m[n])];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
