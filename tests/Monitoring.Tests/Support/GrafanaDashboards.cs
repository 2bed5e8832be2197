using System.Text.Json;
using System.Text.RegularExpressions;

namespace OptimizedCache.Monitoring.Tests.Support;

/// <summary>
/// The checked-in Grafana dashboards as the tests read them: every panel's PromQL (panels nested in rows
/// included), with Grafana's interval variables made concrete so Prometheus can run them.
/// </summary>
internal static partial class GrafanaDashboards
{
    /// <summary>The datasource uid every panel must use (grafana/provisioning/datasources).</summary>
    public const string DatasourceUid = "optimizedcache-prometheus";

    /// <summary>
    /// Panels that must show data whenever the Api serves traffic on both paths, whatever its configuration
    /// (hit ratio, latency, origin calls, error rate, memory), as <c>dashboard/title</c>.
    /// </summary>
    public static readonly IReadOnlySet<string> CorePanels = new HashSet<string>(StringComparer.Ordinal)
    {
        "overview/Hit ratio",
        "overview/Latency cached vs bypass (p50, p95, p99)",
        "overview/Origin calls by path",
        "overview/Origin calls per request",
        "overview/Origin call reduction",
        "overview/Error rate",
        "overview/L1 memory vs budget",
        "rollout/Hit ratio (target >= 60%)",
        "rollout/Origin call reduction (target >= 50%)",
        "rollout/Response time, p95 cached / bypass (target <= 0.7)",
        "rollout/L1 memory, worst replica (warn 70%, alert 90%)",
        "rollout/Error rate (threshold 0.5%)",
    };

    /// <summary>The dashboards' names (file names without <c>.json</c>), in order.</summary>
    public static IEnumerable<string> Names() =>
        Directory.GetFiles(Folder, "*.json")
            .Select(file => Path.GetFileNameWithoutExtension(file))
            .Order(StringComparer.Ordinal);

    /// <summary>Every non-empty query of <paramref name="dashboard"/>, as (<c>dashboard/title</c>, PromQL as written).</summary>
    public static List<(string Panel, string Expr)> PanelQueries(string dashboard)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, dashboard + ".json")));
        var queries = new List<(string, string)>();
        foreach (var panel in Panels(document.RootElement))
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                if (target.TryGetProperty("expr", out var expr) && !string.IsNullOrWhiteSpace(expr.GetString()))
                {
                    queries.Add(($"{dashboard}/{panel.GetProperty("title").GetString()}", expr.GetString()!));
                }
            }
        }

        return queries;
    }

    /// <summary>Top-level panels and the panels nested in collapsed rows.</summary>
    public static IEnumerable<JsonElement> Panels(JsonElement container)
    {
        if (!container.TryGetProperty("panels", out var panels))
        {
            yield break;
        }

        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            foreach (var nested in Panels(panel))
            {
                yield return nested;
            }
        }
    }

    /// <summary>Grafana's interval variables as the durations a one-hour panel would get.</summary>
    public static string SubstituteVariables(string expr) =>
        GrafanaVariable().Replace(expr, match => match.Groups["name"].Value switch
        {
            "__rate_interval" => "1m",
            "__interval" => "15s",
            "__interval_ms" => "15000",
            "__range" => "1h",
            "__range_s" => "3600",
            _ => match.Value,
        });

    private static string Folder => Path.Combine(RepositoryPaths.Grafana, "dashboards");

    [GeneratedRegex(@"\$\{(?<name>__\w+)\}|\$(?<name>__\w+)")]
    private static partial Regex GrafanaVariable();
}
