using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>Request and origin-call totals of one replica from <c>GET /admin/cache/stats</c>; subtract two for a delta.</summary>
/// <param name="Hit">Requests answered from the cache (every group).</param>
/// <param name="Miss">Cached-path requests that went to the origin.</param>
/// <param name="Bypass">Requests the flags sent around the cache.</param>
/// <param name="ReadHit">Hits of the reads group (products, catalog, customers, orders, recommendations).</param>
/// <param name="ReadMiss">Misses of the reads group.</param>
/// <param name="ReadBypass">Bypassed reads.</param>
/// <param name="OriginCalls">Origin calls (cached path + bypass).</param>
/// <param name="OriginErrors">Origin calls that failed.</param>
/// <param name="OriginRateLimited">Origin calls refused by the rate limit.</param>
internal sealed record ApiCounters(
    long Hit, long Miss, long Bypass, long ReadHit, long ReadMiss, long ReadBypass, long OriginCalls, long OriginErrors, long OriginRateLimited)
{
    public static ApiCounters Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0);

    public long Requests => Hit + Miss + Bypass;

    public long Reads => ReadHit + ReadMiss + ReadBypass;

    /// <summary>Read hits over all reads (a bypassed read counts as not served by the cache); NaN without reads.</summary>
    public double ReadHitRatio => Reads == 0 ? double.NaN : (double)ReadHit / Reads;

    public static ApiCounters operator -(ApiCounters a, ApiCounters b) => new(
        a.Hit - b.Hit, a.Miss - b.Miss, a.Bypass - b.Bypass, a.ReadHit - b.ReadHit, a.ReadMiss - b.ReadMiss, a.ReadBypass - b.ReadBypass,
        a.OriginCalls - b.OriginCalls, a.OriginErrors - b.OriginErrors, a.OriginRateLimited - b.OriginRateLimited);

    public static ApiCounters operator +(ApiCounters a, ApiCounters b) => new(
        a.Hit + b.Hit, a.Miss + b.Miss, a.Bypass + b.Bypass, a.ReadHit + b.ReadHit, a.ReadMiss + b.ReadMiss, a.ReadBypass + b.ReadBypass,
        a.OriginCalls + b.OriginCalls, a.OriginErrors + b.OriginErrors, a.OriginRateLimited + b.OriginRateLimited);

    public JsonObject ToJson() => new()
    {
        ["hit"] = Hit, ["miss"] = Miss, ["bypass"] = Bypass, ["readHit"] = ReadHit, ["readMiss"] = ReadMiss, ["readBypass"] = ReadBypass,
        ["originCalls"] = OriginCalls, ["originErrors"] = OriginErrors, ["originRateLimited"] = OriginRateLimited,
        ["readHitRatio"] = Json.Num(ReadHitRatio, 4),
    };
}

/// <summary>One Api replica's admin API (docs/admin-api.md) and <c>/metrics</c>, as the verification tools use them.</summary>
internal sealed class ApiClient(Uri baseUri, string apiKey) : IDisposable
{
    private readonly HttpClient _http = CreateClient(baseUri, apiKey);

    /// <summary>The replica's base URL.</summary>
    public Uri BaseUri { get; } = baseUri;

    /// <summary>An HttpClient for load (no admin key), with a connection pool sized for <paramref name="connections"/>.</summary>
    public static HttpClient CreateLoadClient(Uri baseUri, int connections, TimeSpan timeout) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    })
    { BaseAddress = baseUri, Timeout = timeout };

    public async Task<JsonObject> GetRolloutAsync(CancellationToken cancellationToken = default) =>
        (await _http.GetFromJsonAsync<JsonObject>("/admin/rollout", cancellationToken))!;

    public async Task<int> GetPhaseAsync(CancellationToken cancellationToken = default) =>
        (int)(await GetRolloutAsync(cancellationToken))["phase"]!;

    public async Task SetPhaseAsync(int phase, string reason, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsJsonAsync($"/admin/rollout/phase/{phase}", new { reason }, cancellationToken);
        await EnsureAsync(response, $"setting phase {phase}");
    }

    public async Task ClearCacheAsync(string reason, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsJsonAsync("/admin/cache/clear", new { reason }, cancellationToken);
        await EnsureAsync(response, "clearing the cache");
    }

    public async Task<JsonObject> GetStatsJsonAsync(CancellationToken cancellationToken = default) =>
        (await _http.GetFromJsonAsync<JsonObject>("/admin/cache/stats", cancellationToken))!;

    public async Task<ApiCounters> GetCountersAsync(CancellationToken cancellationToken = default) =>
        ParseCounters(await GetStatsJsonAsync(cancellationToken));

    /// <summary>The origin's behaviour object (<c>GET /admin/origin</c>'s <c>behavior</c>).</summary>
    public async Task<JsonObject> GetOriginBehaviorAsync(CancellationToken cancellationToken = default) =>
        ((await _http.GetFromJsonAsync<JsonObject>("/admin/origin", cancellationToken))!["behavior"] as JsonObject)!.DeepClone().AsObject();

    public async Task SetOriginBehaviorAsync(JsonObject behavior, CancellationToken cancellationToken = default)
    {
        using var content = new StringContent(behavior.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.PutAsync("/admin/origin", content, cancellationToken);
        await EnsureAsync(response, "changing the origin's behaviour");
    }

    /// <summary>Turns every replica's simulated rate limit off; returns the behaviours to restore with <see cref="RestoreOriginsAsync"/>.</summary>
    public static async Task<JsonObject[]> DisableRateLimitAsync(IReadOnlyList<ApiClient> replicas)
    {
        var before = await Task.WhenAll(replicas.Select(r => r.GetOriginBehaviorAsync()));
        foreach (var (replica, behavior) in replicas.Zip(before))
        {
            var open = behavior.DeepClone().AsObject();
            open["rateLimitBucketSize"] = 0;
            await replica.SetOriginBehaviorAsync(open);
        }

        return before;
    }

    /// <summary>Puts back the behaviours <see cref="DisableRateLimitAsync"/> returned.</summary>
    public static async Task RestoreOriginsAsync(IReadOnlyList<ApiClient> replicas, IReadOnlyList<JsonObject> behaviors)
    {
        foreach (var (replica, behavior) in replicas.Zip(behaviors))
        {
            await replica.SetOriginBehaviorAsync(behavior);
        }
    }

    /// <summary>Scrapes <c>/metrics</c>; an unreachable replica gives <see cref="MetricsSnapshot.Empty"/>.</summary>
    public async Task<MetricsSnapshot> ScrapeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return MetricsSnapshot.Parse(await _http.GetStringAsync("/metrics", cancellationToken));
        }
        catch (HttpRequestException)
        {
            return MetricsSnapshot.Empty;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return MetricsSnapshot.Empty;
        }
    }

    internal static ApiCounters ParseCounters(JsonObject stats)
    {
        long hit = 0, miss = 0, bypass = 0;
        foreach (var (_, group) in stats["requests"]!.AsObject())
        {
            hit += (long)group!["hit"]!;
            miss += (long)group["miss"]!;
            bypass += (long)group["bypass"]!;
        }

        var reads = stats["requests"]!["reads"]!;
        var origin = stats["originCalls"]!;
        return new ApiCounters(
            hit, miss, bypass, (long)reads["hit"]!, (long)reads["miss"]!, (long)reads["bypass"]!,
            (long)origin["cached"]! + (long)origin["bypass"]!, (long)origin["errors"]!, (long)origin["rateLimited"]!);
    }

    public void Dispose() => _http.Dispose();

    private static HttpClient CreateClient(Uri baseUri, string apiKey)
    {
        var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        http.DefaultRequestHeaders.Add("X-Actor", "verification");
        return http;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new InvalidOperationException($"{what} failed: {(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}");
        }
    }
}
