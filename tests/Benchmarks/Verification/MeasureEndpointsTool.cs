using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>
/// Endpoint measurement (seed 001 §3 <c>measure_endpoints.sh --endpoints=products,orders,customers,catalog,recommendations
/// --requests=50</c>) and the functional checks of §4.2 (cache off, partly on, fully on; invalidation after an update).
/// </summary>
/// <remarks>
/// Each endpoint gets N sequential requests (one client, no concurrency: unloaded latency) whose ids are drawn from a
/// Zipf distribution over <c>--keys</c> ids with a fixed seed, so phase 0 and phase 3 see the same sequence. At phase 3
/// the cache is cleared first; the <c>cold</c> round replays phase 0's sequence (hits only where the sequence repeats an
/// id). Then a warm-up pass requests every id of each endpoint's id space once (concurrently, <c>--warmup-concurrency</c>),
/// as a store's traffic would over its first minutes, and the <c>warm</c> round draws a new sequence against that cache:
/// the steady state the seed's targets are about (50 requests over 1,000 ids would otherwise measure mostly first
/// requests). Origin calls come from <c>/admin/cache/stats</c> deltas. The phase in force before the run
/// is restored at the end.
/// </remarks>
public sealed class MeasureEndpointsTool : VerificationTool
{
    private static readonly (string Name, string Template, string Space)[] Endpoints =
    [
        ("products", "/api/products/{0}", "products"),
        ("orders", "/api/customers/{0}/orders", "customers"),
        ("customers", "/api/customers/{0}", "customers"),
        ("catalog", "/api/collections/{0}", "collections"),
        ("recommendations", "/api/customers/{0}/recommendations", "customers"),
    ];

    /// <inheritdoc />
    public override string Name => "measure-endpoints";

    /// <inheritdoc />
    public override string Description => "p50/p95/p99 and origin calls of 5 endpoints at phase 0 vs 3, ratios vs the seed's targets; functional checks";

    internal override IReadOnlyList<ToolOption> Options =>
    [
        new("api", "Api base URL (repeat for more replicas; the first is measured, all are checked for invalidation)", "http://127.0.0.1:5080", Repeatable: true),
        new("api-key", "the Api's admin key (X-Api-Key)", Environment.GetEnvironmentVariable("OC_API_KEY")),
        new("requests", "requests per endpoint and round", "50"),
        new("keys", "ids the Zipf draws come from, per endpoint (capped at the store's size)", "1000"),
        new("zipf", "Zipf exponent of the id draws", "1.0"),
        new("seed", "seed of the id draws", "42"),
        new("warmup-concurrency", "concurrent requests of the warm-up pass before the warm round (0: no warm-up)", "16"),
        new("skip-functional", "skip the functional checks", IsFlag: true),
    ];

    internal override async Task<JsonObject> ExecuteAsync()
    {
        var apis = Args.Urls("api");
        var key = Args.Required("api-key");
        var requests = Args.Int("requests", 1, 100_000);
        var keys = Args.Int("keys", 1, 1_000_000);
        var zipf = Args.Double("zipf", 0, 10);
        var seed = Args.Int("seed", 0);
        var warmupConcurrency = Args.Int("warmup-concurrency", 0, 256);
        var admins = apis.Select(a => new ApiClient(a, key)).ToList();
        using var http = new HttpClient { BaseAddress = apis[0], Timeout = TimeSpan.FromSeconds(30) };
        var admin = admins[0];
        var originalPhase = await admin.GetPhaseAsync();
        var data = new JsonObject { ["api"] = apis[0].ToString(), ["replicas"] = apis.Count, ["requests"] = requests, ["keys"] = keys, ["zipf"] = zipf, ["seed"] = seed, ["phaseBefore"] = originalPhase };
        Progress($"phase in force: {originalPhase}; {requests} requests × {Endpoints.Length} endpoints per round");
        try
        {
            await admin.SetPhaseAsync(0, "verification: measure-endpoints baseline (cache off)");
            var baseline = await RoundAsync(http, admin, "phase 0", requests, keys, zipf, seed);
            await admin.SetPhaseAsync(3, "verification: measure-endpoints with the cache on");
            await admin.ClearCacheAsync("verification: measure-endpoints cold round starts from an empty cache");
            var cold = await RoundAsync(http, admin, "phase 3 cold", requests, keys, zipf, seed);
            data["warmup"] = await WarmUpAsync(http, keys, warmupConcurrency);
            var warm = await RoundAsync(http, admin, "phase 3 warm", requests, keys, zipf, seed + 1);
            data["rounds"] = new JsonObject { ["phase0"] = baseline.Json, ["phase3Cold"] = cold.Json, ["phase3Warm"] = warm.Json };
            data["comparison"] = Compare(baseline, cold, warm);
            Table(baseline, cold, warm);
            Judge(baseline, cold, warm, data);
            if (!Args.Flag("skip-functional"))
            {
                data["functional"] = await FunctionalAsync(apis, admins);
            }
        }
        finally
        {
            await admin.SetPhaseAsync(originalPhase, "verification: measure-endpoints restores the phase it found");
            foreach (var a in admins)
            {
                a.Dispose();
            }
        }

        return data;
    }

    // Every id of every endpoint once, a few at a time: the cache then holds the working set, as it does in steady state.
    private async Task<JsonObject> WarmUpAsync(HttpClient http, int keys, int concurrency)
    {
        if (concurrency == 0)
        {
            Progress("warm-up: skipped (--warmup-concurrency 0)");
            return new JsonObject { ["requests"] = 0, ["failures"] = 0 };
        }

        var paths = Endpoints
            .SelectMany(e => Enumerable.Range(1, SpaceSize(e.Space, keys)).Select(id => string.Format(CultureInfo.InvariantCulture, e.Template, id)))
            .ToArray();
        var started = Stopwatch.GetTimestamp();
        int next = -1, done = 0, failures = 0;
        using var progress = new Timer(
            _ => Progress($"warm-up: {Volatile.Read(ref done)} of {paths.Length} requests"), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < paths.Length)
            {
                try
                {
                    using var response = await http.GetAsync(paths[index], HttpCompletionOption.ResponseContentRead);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref failures);
                }

                Interlocked.Increment(ref done);
            }
        });
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Progress(string.Create(CultureInfo.InvariantCulture, $"warm-up: {paths.Length} requests ({concurrency} at a time) in {seconds:0.0} s, {failures} failed"));
        Record(new Check("warm-up pass: every id answered", failures == 0, $"{failures} failures of {paths.Length}",
            "each endpoint's ids requested once before the warm round"));
        return new JsonObject { ["requests"] = paths.Length, ["concurrency"] = concurrency, ["failures"] = failures, ["seconds"] = Json.Num(seconds, 1) };
    }

    private static int SpaceSize(string space, int keys) => Math.Min(keys, space switch { "products" => 20_000, "customers" => 5_000, _ => 200 });

    private async Task<Round> RoundAsync(HttpClient http, ApiClient admin, string label, int requests, int keys, double zipf, int seed)
    {
        var round = new Round(label);
        var phase = await admin.GetPhaseAsync();
        foreach (var (name, template, space) in Endpoints)
        {
            var sampler = new ZipfSampler(SpaceSize(space, keys), zipf);
            var random = new Random(HashCode.Combine(seed, name.Length, name[0]));
            var before = await admin.GetCountersAsync();
            var latencies = new List<double>(requests);
            int failures = 0, hits = 0;
            for (var i = 0; i < requests; i++)
            {
                var path = string.Format(CultureInfo.InvariantCulture, template, sampler.Next(random));
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    failures += response.IsSuccessStatusCode ? 0 : 1;
                    hits += response.Headers.TryGetValues("X-Cache", out var v) && v.Contains("HIT") ? 1 : 0;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    failures++;
                }
            }

            var delta = await admin.GetCountersAsync() - before;
            round.All.AddRange(latencies);
            latencies.Sort();
            round.Endpoints[name] = new EndpointFigures(
                requests, failures, hits, delta.OriginCalls, Statistics.Percentile(latencies, 50), Statistics.Percentile(latencies, 95),
                Statistics.Percentile(latencies, 99), latencies.Average());
        }

        if (await admin.GetPhaseAsync() is var after && after != phase)
        {
            Record(new Check($"{label}: the phase held through the round", false, $"{phase} → {after}",
                "something (the rollout guard?) changed the phase: the round's figures mix phases"));
        }

        Progress($"{label}: {round.Total.OriginCalls} origin calls, p50 {round.Total.P50Ms:0.00} ms over {requests * Endpoints.Length} requests");
        return round;
    }

    private static JsonObject Compare(Round baseline, Round cold, Round warm)
    {
        var o = new JsonObject();
        foreach (var name in Endpoints.Select(e => e.Name).Append("all"))
        {
            var b = name == "all" ? baseline.Total : baseline.Endpoints[name];
            var c = name == "all" ? cold.Total : cold.Endpoints[name];
            var w = name == "all" ? warm.Total : warm.Endpoints[name];
            o[name] = new JsonObject
            {
                ["originReductionCold"] = Json.Num(Statistics.Reduction(b.OriginCalls, c.OriginCalls), 4),
                ["originReductionWarm"] = Json.Num(Statistics.Reduction(b.OriginCalls, w.OriginCalls), 4),
                ["p50ReductionCold"] = Json.Num(Statistics.Reduction(b.P50Ms, c.P50Ms), 4),
                ["p50ReductionWarm"] = Json.Num(Statistics.Reduction(b.P50Ms, w.P50Ms), 4),
                ["p95ReductionWarm"] = Json.Num(Statistics.Reduction(b.P95Ms, w.P95Ms), 4),
                ["meanReductionWarm"] = Json.Num(Statistics.Reduction(b.MeanMs, w.MeanMs), 4),
            };
        }

        return o;
    }

    private static void Table(Round baseline, Round cold, Round warm)
    {
        Console.WriteLine();
        Console.WriteLine("| endpoint | round | p50 ms | p95 ms | p99 ms | origin calls | hits | failures |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var name in Endpoints.Select(e => e.Name))
        {
            foreach (var round in new[] { baseline, cold, warm })
            {
                var f = round.Endpoints[name];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {round.Label} | {f.P50Ms:0.00} | {f.P95Ms:0.00} | {f.P99Ms:0.00} | {f.OriginCalls} | {f.Hits} | {f.Failures} |"));
            }
        }

        Console.WriteLine();
    }

    private void Judge(Round baseline, Round cold, Round warm, JsonObject data)
    {
        var b = baseline.Total;
        var w = warm.Total;
        var failures = baseline.Total.Failures + cold.Total.Failures + warm.Total.Failures;
        Record(new Check("every request answered 2xx", failures == 0, $"{failures} failures of {3 * b.Requests}"));
        var origin = Statistics.Reduction(b.OriginCalls, w.OriginCalls);
        var p50 = Statistics.Reduction(b.P50Ms, w.P50Ms);
        var mean = Statistics.Reduction(b.MeanMs, w.MeanMs);
        Record(new Check("seed target: API (origin) calls -50%", origin >= 0.5, Pct(origin), $"phase 0 {b.OriginCalls} → phase 3 warm {w.OriginCalls}"));
        Record(new Check("seed target: response time -30% (p50)", p50 >= 0.3, Pct(p50), $"p50 {b.P50Ms:0.00} → {w.P50Ms:0.00} ms; mean {Pct(mean)}"));
        data["goals"] = new JsonArray(
            Goal("origin calls -95% (phase 3 warm vs phase 0)", origin, 0.95),
            Goal("p50 response time -90% (phase 3 warm vs phase 0)", p50, 0.90));
    }

    private static JsonObject Goal(string name, double value, double target)
    {
        var met = value >= target;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"GOAL  {name}: {Pct(value)} ({(met ? "met" : "missed")}, target -{target * 100:0}%)"));
        return new JsonObject { ["name"] = name, ["value"] = Json.Num(value, 4), ["target"] = target, ["met"] = met };
    }

    internal static string Pct(double ratio) =>
        double.IsFinite(ratio) ? string.Create(CultureInfo.InvariantCulture, $"{(ratio >= 0 ? "-" : "+")}{Math.Abs(ratio) * 100:0.0}%") : "n/a";

    private async Task<JsonObject> FunctionalAsync(IReadOnlyList<Uri> apis, IReadOnlyList<ApiClient> admins)
    {
        var result = new JsonObject();
        var bodies = new Dictionary<string, string>(StringComparer.Ordinal);
        var handlers = apis.Select(a => new HttpClient { BaseAddress = a, Timeout = TimeSpan.FromSeconds(30) }).ToList();
        try
        {
            var probes = Endpoints.Select(e => (e.Name, Path: string.Format(CultureInfo.InvariantCulture, e.Template, 7))).ToList();
            foreach (var phase in new[] { 0, 1, 3 })
            {
                await admins[0].SetPhaseAsync(phase, $"verification: functional checks at phase {phase}");
                int ok = 0, differing = 0, badHeader = 0;
                foreach (var (name, path) in probes)
                {
                    // Twice, so phase 3 sees a miss then a hit and both must give the same body.
                    for (var attempt = 0; attempt < 2; attempt++)
                    {
                        using var response = await handlers[0].GetAsync(path);
                        var body = Normalize(await response.Content.ReadAsStringAsync());
                        var header = response.Headers.TryGetValues("X-Cache", out var v) ? v.FirstOrDefault() : null;
                        ok += response.IsSuccessStatusCode ? 1 : 0;
                        badHeader += header is "HIT" or "MISS" or "BYPASS" && (phase != 0 || header == "BYPASS") ? 0 : 1;
                        if (bodies.TryGetValue(name, out var first))
                        {
                            differing += first == body ? 0 : 1;
                        }
                        else
                        {
                            bodies[name] = body;
                        }
                    }
                }

                var total = probes.Count * 2;
                Record(new Check($"functional, phase {phase}: endpoints answer 2xx", ok == total, $"{ok}/{total}"));
                Record(new Check($"functional, phase {phase}: X-Cache header valid", badHeader == 0, $"{badHeader} invalid",
                    phase == 0 ? "phase 0 must bypass" : "HIT, MISS or BYPASS"));
                Record(new Check($"functional, phase {phase}: same body as with the cache off", differing == 0, $"{differing} differing"));
                result[$"phase{phase}"] = new JsonObject { ["ok"] = ok, ["total"] = total, ["badHeader"] = badHeader, ["differing"] = differing };
            }

            result["invalidation"] = await InvalidationAsync(handlers);
        }
        finally
        {
            foreach (var h in handlers)
            {
                h.Dispose();
            }
        }

        return result;
    }

    private async Task<JsonObject> InvalidationAsync(IReadOnlyList<HttpClient> replicas)
    {
        // A cold product outside the measured ids; every replica caches it, one replica updates it, every replica must
        // show the new title within the deadline.
        const string path = "/api/products/19997";
        const double deadlineSeconds = 2;
        foreach (var r in replicas)
        {
            (await r.GetAsync(path)).Dispose();
            (await r.GetAsync(path)).Dispose();
        }

        var title = $"Verification {Guid.NewGuid():N}"[..24];
        using (var put = await replicas[0].PutAsync(path, new StringContent($$"""{"title":"{{title}}"}""", Encoding.UTF8, "application/json")))
        {
            if (!put.IsSuccessStatusCode)
            {
                Record(new Check("functional: update then read back on every replica", false, $"PUT answered {(int)put.StatusCode}"));
                return new JsonObject { ["updated"] = false };
            }
        }

        var clock = Stopwatch.StartNew();
        var seenAfter = new double?[replicas.Count];
        while (clock.Elapsed.TotalSeconds < deadlineSeconds && seenAfter.Any(s => s is null))
        {
            for (var i = 0; i < replicas.Count; i++)
            {
                if (seenAfter[i] is null && (await replicas[i].GetStringAsync(path)).Contains(title, StringComparison.Ordinal))
                {
                    seenAfter[i] = clock.Elapsed.TotalMilliseconds;
                }
            }

            await Task.Delay(25);
        }

        var all = seenAfter.All(s => s is not null);
        Record(new Check("functional: update then read back on every replica", all,
            string.Join(", ", seenAfter.Select((s, i) => $"replica {i + 1}: {(s is { } ms ? $"{ms:0} ms" : "stale")}")), $"within {deadlineSeconds} s"));
        return new JsonObject
        {
            ["updated"] = true,
            ["deadlineSeconds"] = deadlineSeconds,
            ["visibleAfterMs"] = new JsonArray([.. seenAfter.Select(s => Json.Num(s, 1))]),
        };
    }

    private static string Normalize(string json)
    {
        try
        {
            return JsonNode.Parse(json)?.ToJsonString() ?? string.Empty;
        }
        catch (System.Text.Json.JsonException)
        {
            return json;
        }
    }

    private sealed record EndpointFigures(int Requests, int Failures, int Hits, long OriginCalls, double P50Ms, double P95Ms, double P99Ms, double MeanMs)
    {
        public JsonObject ToJson() => new()
        {
            ["requests"] = Requests, ["failures"] = Failures, ["hits"] = Hits, ["originCalls"] = OriginCalls,
            ["p50Ms"] = Json.Num(P50Ms), ["p95Ms"] = Json.Num(P95Ms), ["p99Ms"] = Json.Num(P99Ms), ["meanMs"] = Json.Num(MeanMs),
        };
    }

    private sealed class Round(string label)
    {
        public string Label { get; } = label;

        public Dictionary<string, EndpointFigures> Endpoints { get; } = new(StringComparer.Ordinal);

        /// <summary>Every request's latency in this round, all endpoints pooled.</summary>
        public List<double> All { get; } = [];

        /// <summary>All endpoints together: sums, and percentiles of the pooled latencies.</summary>
        public EndpointFigures Total
        {
            get
            {
                var sorted = All.Order().ToList();
                return new(
                    Endpoints.Values.Sum(e => e.Requests), Endpoints.Values.Sum(e => e.Failures), Endpoints.Values.Sum(e => e.Hits), Endpoints.Values.Sum(e => e.OriginCalls),
                    Statistics.Percentile(sorted, 50), Statistics.Percentile(sorted, 95), Statistics.Percentile(sorted, 99), sorted.Count == 0 ? double.NaN : sorted.Average());
            }
        }

        public JsonObject Json => new()
        {
            ["label"] = Label,
            ["endpoints"] = new JsonObject([.. Endpoints.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value.ToJson()))]),
            ["all"] = Total.ToJson(),
        };
    }
}
