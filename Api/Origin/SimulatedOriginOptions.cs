using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptimizedCache.Api.Origin;

/// <summary>
/// The simulated store's shape (fixed at start) and its initial behaviour (changeable at run time through
/// <c>PUT /admin/origin</c>). Bound from the <c>Origin</c> configuration section.
/// </summary>
public sealed class SimulatedOriginOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Origin";

    /// <summary>Seed of the generated catalog; the same seed gives the same store everywhere.</summary>
    /// <value>Default 20240601.</value>
    public long Seed { get; set; } = 20240601;

    /// <summary>Number of products (about 2–4 KiB of JSON each).</summary>
    /// <value>Default 20,000: about 60 MiB of JSON, more than a small L1 holds.</value>
    [Range(1, 1_000_000)]
    public int Products { get; set; } = 20_000;

    /// <summary>Number of collections.</summary>
    /// <value>Default 200.</value>
    [Range(1, 10_000)]
    public int Collections { get; set; } = 200;

    /// <summary>Number of customers.</summary>
    /// <value>Default 5,000.</value>
    [Range(1, 1_000_000)]
    public int Customers { get; set; } = 5_000;

    /// <summary>Orders created through the API that the store keeps; the oldest go first beyond this.</summary>
    /// <value>Default 50,000.</value>
    [Range(1, 10_000_000)]
    public int MaxCreatedOrders { get; set; } = 50_000;

    /// <summary>Median origin latency in milliseconds (log-normal); 0 answers at once.</summary>
    /// <value>Default 80.</value>
    [Range(0, 60_000)]
    public double LatencyMedianMs { get; set; } = 80;

    /// <summary>Spread of the log-normal latency (sigma of the underlying normal): 0.6 puts p99 near 4× the median.</summary>
    /// <value>Default 0.6.</value>
    [Range(0, 3)]
    public double LatencySigma { get; set; } = 0.6;

    /// <summary>Latency cap in milliseconds (the tail is cut here, as a client timeout would).</summary>
    /// <value>Default 5,000.</value>
    [Range(0, 120_000)]
    public double LatencyMaxMs { get; set; } = 5_000;

    /// <summary>Leaky-bucket size in requests; 0 turns the rate limit off. Shopify's REST Admin API uses 40 (Plus: 400).</summary>
    /// <value>Default 400.</value>
    [Range(0, 1_000_000)]
    public int RateLimitBucketSize { get; set; } = 400;

    /// <summary>Requests the bucket drains per second. Shopify's REST Admin API drains 2 (Plus: 20); the default lets a load test reach steady state.</summary>
    /// <value>Default 200.</value>
    [Range(0, 1_000_000)]
    public double RateLimitLeakPerSecond { get; set; } = 200;

    /// <summary>Share of origin calls that fail (0 to 1), after their latency.</summary>
    /// <value>Default 0.</value>
    [Range(0, 1)]
    public double ErrorRate { get; set; }

    /// <summary>How injected failures fail.</summary>
    /// <value>Default <see cref="OriginFailure.ServerError"/>.</value>
    public OriginFailure ErrorKind { get; set; } = OriginFailure.ServerError;

    /// <summary>The behaviour these options start with.</summary>
    public OriginBehavior ToBehavior() => new(
        LatencyMedianMs, LatencySigma, LatencyMaxMs, RateLimitBucketSize, RateLimitLeakPerSecond, ErrorRate, ErrorKind);
}

/// <summary>The origin's run-time behaviour: latency, rate limit and injected errors.</summary>
/// <param name="LatencyMedianMs">Median latency in milliseconds (log-normal); 0 answers at once.</param>
/// <param name="LatencySigma">Sigma of the log-normal latency.</param>
/// <param name="LatencyMaxMs">Latency cap in milliseconds.</param>
/// <param name="RateLimitBucketSize">Leaky-bucket size; 0 turns the rate limit off.</param>
/// <param name="RateLimitLeakPerSecond">Requests drained per second.</param>
/// <param name="ErrorRate">Share of calls that fail, 0 to 1.</param>
/// <param name="ErrorKind">How injected failures fail.</param>
/// <remarks>A replacement, not a patch: every field is required and an unknown one is refused, so a body with a
/// misspelt or missing field is a 400 naming it instead of a silent zero.</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record OriginBehavior(
    [property: JsonRequired] double LatencyMedianMs,
    [property: JsonRequired] double LatencySigma,
    [property: JsonRequired] double LatencyMaxMs,
    [property: JsonRequired] int RateLimitBucketSize,
    [property: JsonRequired] double RateLimitLeakPerSecond,
    [property: JsonRequired] double ErrorRate,
    [property: JsonRequired] OriginFailure ErrorKind)
{
    private static readonly string[] FieldNames =
        ["latencyMedianMs", "latencySigma", "latencyMaxMs", "rateLimitBucketSize", "rateLimitLeakPerSecond", "errorRate", "errorKind"];

    /// <summary>
    /// Reads a behaviour from a request body: an object with every field and no other (each missing or unknown one
    /// named), of the right types, within range. On failure <paramref name="problem"/> says what to fix.
    /// </summary>
    public static bool TryRead(JsonElement? body, JsonSerializerOptions options, [NotNullWhen(true)] out OriginBehavior? behavior, [NotNullWhen(false)] out string? problem)
    {
        behavior = null;
        if (body is not { ValueKind: JsonValueKind.Object } json)
        {
            problem = $"The body must be the origin behaviour, an object with {string.Join(", ", FieldNames)}.";
            return false;
        }

        var given = json.EnumerateObject().Select(p => p.Name).ToList();
        var unknown = given.Where(n => !FieldNames.Contains(n, StringComparer.OrdinalIgnoreCase)).ToList();
        var missing = FieldNames.Where(f => !given.Contains(f, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0 || missing.Count > 0)
        {
            problem = string.Join(" ", new[]
            {
                unknown.Count > 0 ? $"Unknown field(s): {string.Join(", ", unknown.Select(n => $"'{n}'"))}." : null,
                missing.Count > 0 ? $"Missing field(s): {string.Join(", ", missing)}." : null,
                "The behaviour is replaced as a whole: send every field (GET shows the current values).",
            }.Where(part => part is not null));
            return false;
        }

        try
        {
            behavior = json.Deserialize<OriginBehavior>(options);
        }
        catch (JsonException e)
        {
            problem = $"The body is not an origin behaviour: {e.Message}";
            return false;
        }

        problem = behavior?.Validate();
        return problem is null && behavior is not null;
    }

    /// <summary>Returns what is wrong with these values, or null when they are valid.</summary>
    public string? Validate()
    {
        if (!double.IsFinite(LatencyMedianMs) || LatencyMedianMs is < 0 or > 60_000)
        {
            return $"latencyMedianMs must be between 0 and 60000; got {LatencyMedianMs}.";
        }

        if (!double.IsFinite(LatencySigma) || LatencySigma is < 0 or > 3)
        {
            return $"latencySigma must be between 0 and 3; got {LatencySigma}.";
        }

        if (!double.IsFinite(LatencyMaxMs) || LatencyMaxMs is < 0 or > 120_000)
        {
            return $"latencyMaxMs must be between 0 and 120000; got {LatencyMaxMs}.";
        }

        if (RateLimitBucketSize is < 0 or > 1_000_000)
        {
            return $"rateLimitBucketSize must be between 0 and 1000000; got {RateLimitBucketSize}.";
        }

        if (!double.IsFinite(RateLimitLeakPerSecond) || RateLimitLeakPerSecond is < 0 or > 1_000_000
            || (RateLimitBucketSize > 0 && RateLimitLeakPerSecond <= 0))
        {
            return $"rateLimitLeakPerSecond must be above 0 (at most 1000000) while the rate limit is on; got {RateLimitLeakPerSecond}.";
        }

        if (!double.IsFinite(ErrorRate) || ErrorRate is < 0 or > 1)
        {
            return $"errorRate must be between 0 and 1; got {ErrorRate}.";
        }

        return Enum.IsDefined(ErrorKind) ? null : $"errorKind '{ErrorKind}' is not one of {string.Join(", ", Enum.GetNames<OriginFailure>())}.";
    }
}
