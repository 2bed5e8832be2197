namespace OptimizedCache.Monitoring;

/// <summary>Where Monitoring finds Prometheus and the Api, bound from the <c>Monitoring</c> section.</summary>
public sealed class MonitoringOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Monitoring";

    /// <summary>Base URL of the Prometheus server whose HTTP API is queried.</summary>
    /// <value>No default: required.</value>
    public Uri? Prometheus { get; set; }

    /// <summary>Base URL of one Api replica; the admin endpoints reach every replica through Redis.</summary>
    /// <value>No default: required.</value>
    public Uri? Api { get; set; }

    /// <summary>
    /// The Api's admin key (<c>Admin:ApiKey</c> there). Sent as <c>X-Api-Key</c> on admin calls and compared
    /// with what operators type into the control panel. Never logged.
    /// </summary>
    /// <value>No default: required.</value>
    public string ApiKey { get; set; } = string.Empty;

    /// <summary>Timeout of one Prometheus HTTP API call.</summary>
    /// <value>10 seconds.</value>
    public TimeSpan PrometheusTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout of one Api admin call.</summary>
    /// <value>10 seconds.</value>
    public TimeSpan ApiTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often Prometheus scrapes the Api; chart rate windows span at least four scrapes.</summary>
    /// <value>15 seconds.</value>
    public TimeSpan ScrapeInterval { get; set; } = TimeSpan.FromSeconds(15);
}
