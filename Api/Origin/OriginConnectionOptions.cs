using System.ComponentModel.DataAnnotations;

namespace OptimizedCache.Api.Origin;

/// <summary>What part this process plays for the store origin.</summary>
public enum OriginRole
{
    /// <summary>The store API, over the origin at <see cref="OriginConnectionOptions.BaseUrl"/> or, without one, its own in-process store.</summary>
    Api,

    /// <summary>The shared store itself: only the <c>/origin</c> endpoints (and health, metrics) over one simulated store.</summary>
    Server,
}

/// <summary>
/// Where the store origin is, bound from the <c>Origin</c> section (beside <see cref="SimulatedOriginOptions"/>,
/// which shape the simulated store wherever it runs). With no <see cref="BaseUrl"/> every replica embeds its own
/// simulated store; replicas of one deployment share one origin server through <see cref="BaseUrl"/>.
/// </summary>
public sealed class OriginConnectionOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Origin";

    /// <summary>The part this process plays.</summary>
    /// <value>Default <see cref="OriginRole.Api"/>.</value>
    public OriginRole Role { get; set; } = OriginRole.Api;

    /// <summary>Base URL of the shared origin server (a process in the <see cref="OriginRole.Server"/> role).</summary>
    /// <value>Default none: the store is embedded in this process.</value>
    public Uri? BaseUrl { get; set; }

    /// <summary>How long one origin call may take before it counts as unreachable.</summary>
    /// <value>Default 10 seconds, above the simulated store's 5-second latency cap; 100 ms to 2 minutes.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The key sent as <c>X-Api-Key</c> when <c>/admin/origin</c> changes the shared origin's behaviour.
    /// </summary>
    /// <value>Default none: the Api's own <c>Admin:ApiKey</c> is sent.</value>
    public string? ApiKey { get; set; }

    /// <summary>The largest origin response read, in bytes.</summary>
    /// <value>Default 8 MiB; 64 KiB to 256 MiB.</value>
    [Range(64 * 1024, 256 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Returns what is wrong with these values, or null when they are valid.</summary>
    public string? Validate()
    {
        if (BaseUrl is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
        {
            return $"Origin:BaseUrl '{url}' must be an absolute http or https URL.";
        }

        if (Role == OriginRole.Server && BaseUrl is not null)
        {
            return $"Origin:BaseUrl '{BaseUrl}' is set on the origin server itself; the server role serves its own store.";
        }

        if (Timeout < TimeSpan.FromMilliseconds(100) || Timeout > TimeSpan.FromMinutes(2))
        {
            return $"Origin:Timeout must be between 100 ms and 2 minutes; got {Timeout}.";
        }

        return Enum.IsDefined(Role) ? null : $"Origin:Role '{Role}' is not one of {string.Join(", ", Enum.GetNames<OriginRole>())}.";
    }
}
