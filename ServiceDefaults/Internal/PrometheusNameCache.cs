using System.Collections.Concurrent;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// Prometheus names per (name, unit, kind), computed once: the set is bounded by the SDK's limit on
/// metric streams, so the cache cannot grow past it.
/// </summary>
internal sealed class PrometheusNameCache
{
    private readonly ConcurrentDictionary<(string Name, string? Unit, PrometheusKind Kind), string> _names = new();

    public string Get(string name, string? unit, PrometheusKind kind) =>
        _names.GetOrAdd((name, unit, kind), static key => PrometheusNaming.MetricName(key.Name, key.Unit, key.Kind));
}
