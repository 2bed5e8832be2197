using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>
/// Stepped load (seed 001 §4.3: 10, 50, 100, 200 users) with <c>wrk</c> and <c>verification/zipf-mixed.lua</c>:
/// per step requests/s, latency percentiles, error rate (non-2xx and socket errors), read hit ratio and origin calls
/// (from <c>/admin/cache/stats</c> deltas summed over the replicas), the Api's working set; a Markdown table and SVG
/// charts. With the baseline on (default), the lowest step is also run at phase 0 (cache off), which gives the
/// with/without-cache ratios on the same workload. The phase in force before is restored.
/// </summary>
/// <remarks>
/// With several <c>--api</c> replicas, each step's connections are split evenly and one wrk runs per replica at the
/// same time; requests/s and counts are summed, latency percentiles are the worst replica's (wrk's histograms cannot
/// be merged from its output).
/// </remarks>
public sealed class SteppedLoadTool : VerificationTool
{
    /// <inheritdoc />
    public override string Name => "stepped-load";

    /// <inheritdoc />
    public override string Description => "wrk at 10/50/100/200 connections on a Zipf read/write mix: rps, latency, errors, hit ratio, origin calls per step";

    internal override IReadOnlyList<ToolOption> Options =>
    [
        new("api", "Api base URL (repeat for more replicas)", "http://127.0.0.1:5080", Repeatable: true),
        new("api-key", "the Api's admin key (X-Api-Key)", Environment.GetEnvironmentVariable("OC_API_KEY")),
        new("connections", "connection counts of the steps", "10,50,100,200"),
        new("duration", "duration of each step", "30s"),
        new("warmup", "unmeasured load at phase 3 before the steps", "10s"),
        new("threads", "wrk threads (at most the connections of a step)", "2"),
        new("phase", "rollout phase of the steps", "3"),
        new("no-baseline", "skip the phase-0 run at the lowest step", IsFlag: true),
        new("script", "wrk Lua script", "verification/zipf-mixed.lua"),
        new("products", "product ids drawn from (Zipf)", "20000"),
        new("zipf", "Zipf exponent", "1.0"),
        new("write-share", "share of requests that update a product", "0.02"),
        new("other-share", "share of requests reading customers, orders, recommendations, collections", "0.2"),
        new("keep-rate-limit", "keep the simulated origin's rate limit on (off by default: with it, phase 0 is mostly fast 503s and no baseline)", IsFlag: true),
        new("max-error-rate", "a step with a higher error rate (fraction) fails", "0.005"),
    ];

    internal override async Task<JsonObject> ExecuteAsync()
    {
        var apis = Args.Urls("api");
        var key = Args.Required("api-key");
        var steps = Args.GetAll("connections").Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 10_000
            ? n : throw new ArgumentException($"option '--connections' must list counts from 1 to 10000; got '{c}'", "connections")).ToList();
        var duration = Args.Duration("duration");
        var warmup = Args.DurationOrZero("warmup");
        var threads = Args.Int("threads", 1, 64);
        var phase = Args.Int("phase", 0, 10);
        var script = Args.Required("script");
        var maxErrorRate = Args.Double("max-error-rate", 0, 1);
        if (!File.Exists(script))
        {
            throw new ArgumentException($"option '--script': no file '{script}'", "script");
        }

        var wrk = Testing.ServerProcess.Locate("wrk", "wrk");
        var environment = new Dictionary<string, string>
        {
            ["PRODUCTS"] = Args.Int("products", 1, 1_000_000).ToString(CultureInfo.InvariantCulture),
            ["ZIPF_S"] = Args.Double("zipf", 0, 10).ToString(CultureInfo.InvariantCulture),
            ["WRITE_SHARE"] = Args.Double("write-share", 0, 1).ToString(CultureInfo.InvariantCulture),
            ["OTHER_SHARE"] = Args.Double("other-share", 0, 1).ToString(CultureInfo.InvariantCulture),
        };
        var admins = apis.Select(a => new ApiClient(a, key)).ToList();
        var originalPhase = await admins[0].GetPhaseAsync();
        var data = new JsonObject
        {
            ["apis"] = new JsonArray([.. apis.Select(a => (JsonNode?)a.ToString())]),
            ["durationSeconds"] = duration.TotalSeconds,
            ["workload"] = new JsonObject([.. environment.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]),
            ["origin"] = await admins[0].GetOriginBehaviorAsync(),
            ["phaseBefore"] = originalPhase,
        };
        var results = new JsonArray();
        var origins = Args.Flag("keep-rate-limit") ? null : await ApiClient.DisableRateLimitAsync(admins);
        data["rateLimit"] = origins is null ? "on" : "off";
        data["origin"] = await admins[0].GetOriginBehaviorAsync();
        try
        {
            if (!Args.Flag("no-baseline"))
            {
                await admins[0].SetPhaseAsync(0, "verification: stepped-load baseline (cache off)");
                Progress($"baseline: phase 0, {steps[0]} connections, {duration.TotalSeconds:0} s");
                data["baseline"] = await StepAsync(wrk, script, environment, apis, admins, steps[0], threads, duration, 0);
            }

            await admins[0].SetPhaseAsync(phase, $"verification: stepped-load at phase {phase}");
            if (warmup > TimeSpan.Zero)
            {
                Progress($"warm-up: phase {phase}, {steps[0]} connections, {warmup.TotalSeconds:0} s (not measured)");
                await StepAsync(wrk, script, environment, apis, admins, steps[0], threads, warmup, phase);
            }

            foreach (var connections in steps)
            {
                Progress($"step: phase {phase}, {connections} connections, {duration.TotalSeconds:0} s");
                var step = await StepAsync(wrk, script, environment, apis, admins, connections, threads, duration, phase);
                results.Add(step);
                Console.WriteLine($"        {step["requestsPerSecond"]} req/s, p50 {step["p50Ms"]} ms, p99 {step["p99Ms"]} ms, errors {step["errorRate"]}, hit ratio {step["hitRatio"]}, origin/1000 {step["originPer1000"]}");
            }
        }
        finally
        {
            await admins[0].SetPhaseAsync(originalPhase, "verification: stepped-load restores the phase it found");
            if (origins is not null)
            {
                await ApiClient.RestoreOriginsAsync(admins, origins);
            }

            foreach (var a in admins)
            {
                a.Dispose();
            }
        }

        data["steps"] = results;
        foreach (var step in results)
        {
            var rate = Json.D(step!["errorRate"]);
            Record(new Check($"{step["connections"]} connections: error rate", rate <= maxErrorRate, Percent(rate, 2), $"at most {Percent(maxErrorRate, 1)} (seed's alert threshold)"));
        }

        foreach (var step in (data["baseline"] is JsonObject b0 ? new[] { b0 } : []).Concat(results.Select(r => r!.AsObject())))
        {
            var held = Json.D(step["phaseAfter"]) == Json.D(step["phase"]);
            if (!held)
            {
                Record(new Check($"{step["connections"]} connections, phase {step["phase"]}: the phase held through the step", false,
                    $"phase {step["phaseAfter"]} at the end", "something (the rollout guard?) changed the phase: the step's figures mix phases"));
            }
        }

        var last = results.Count > 0 ? results[^1]!.AsObject() : null;
        var goals = new JsonArray();
        if (last is not null)
        {
            var hit = Json.D(last["hitRatio"]);
            Record(new Check("seed target: hit ratio >= 60% at the highest step", hit >= 0.6, Percent(hit, 1)));
            goals.Add(Goal("steady-state hit ratio >= 95% (Zipf workload, highest step)", hit, 0.95, reduction: false));
        }

        if (data["baseline"] is JsonObject baseline && results.Count > 0)
        {
            var same = results[0]!.AsObject();
            var origin = Statistics.Reduction(Json.D(baseline["originPer1000"]), Json.D(same["originPer1000"]));
            var p50 = Statistics.Reduction(Json.D(baseline["p50Ms"]), Json.D(same["p50Ms"]));
            data["comparison"] = new JsonObject { ["connections"] = steps[0], ["originReduction"] = Json.Num(origin, 4), ["p50Reduction"] = Json.Num(p50, 4) };
            Record(new Check("seed target: origin calls -50% (phase 3 vs 0, same load)", origin >= 0.5, MeasureEndpointsTool.Pct(origin)));
            Record(new Check("seed target: response time -30% (p50, phase 3 vs 0, same load)", p50 >= 0.3, MeasureEndpointsTool.Pct(p50)));
            goals.Add(Goal("origin calls -95% (phase 3 vs 0, same Zipf load)", origin, 0.95, reduction: true));
            goals.Add(Goal("p50 response time -90% (phase 3 vs 0, same Zipf load)", p50, 0.90, reduction: true));
        }

        data["goals"] = goals;
        await WriteTableAndChartsAsync(data);
        return data;
    }

    private static JsonObject Goal(string name, double value, double target, bool reduction)
    {
        var met = value >= target;
        var shown = reduction ? MeasureEndpointsTool.Pct(value) : Percent(value, 1);
        Console.WriteLine($"GOAL  {name}: {shown} ({(met ? "met" : "missed")})");
        return new JsonObject { ["name"] = name, ["value"] = Json.Num(value, 4), ["target"] = target, ["met"] = met };
    }

    private static async Task<JsonObject> StepAsync(string wrk, string script, Dictionary<string, string> environment, IReadOnlyList<Uri> apis,
        IReadOnlyList<ApiClient> admins, int connections, int threads, TimeSpan duration, int phase)
    {
        var before = await Task.WhenAll(admins.Select(a => a.GetCountersAsync()));
        var perReplica = Math.Max(1, connections / apis.Count);
        var runs = await Task.WhenAll(apis.Select(api => RunWrkAsync(wrk, script, environment, api, perReplica, Math.Min(threads, perReplica), duration)));
        var after = await Task.WhenAll(admins.Select(a => a.GetCountersAsync()));
        var phaseAfter = await admins[0].GetPhaseAsync();
        var delta = after.Zip(before, (a, b) => a - b).Aggregate(ApiCounters.Zero, (x, y) => x + y);
        var metrics = await Task.WhenAll(admins.Select(a => a.ScrapeAsync()));
        var requests = runs.Sum(r => (long)r["requests"]!);
        var seconds = runs.Max(r => Json.D(r["duration_us"])) / 1e6;
        long Errors(JsonNode r, string kind) => (long)r["errors"]![kind]!;
        var non2xx = runs.Sum(r => Errors(r, "status"));
        var socket = runs.Sum(r => Errors(r, "connect") + Errors(r, "read") + Errors(r, "write") + Errors(r, "timeout"));
        double Worst(string p) => runs.Max(r => Json.D(r["latency_us"]![p])) / 1000;
        return new JsonObject
        {
            ["phase"] = phase,
            ["phaseAfter"] = phaseAfter,
            ["connections"] = perReplica * apis.Count,
            ["seconds"] = Json.Num(seconds, 2),
            ["requests"] = requests,
            ["requestsPerSecond"] = Json.Num(requests / seconds, 1),
            ["p50Ms"] = Json.Num(Worst("p50")),
            ["p75Ms"] = Json.Num(Worst("p75")),
            ["p90Ms"] = Json.Num(Worst("p90")),
            ["p99Ms"] = Json.Num(Worst("p99")),
            ["p999Ms"] = Json.Num(Worst("p999")),
            ["maxMs"] = Json.Num(Worst("max")),
            ["non2xx"] = non2xx,
            ["socketErrors"] = socket,
            ["errorRate"] = Json.Num(requests == 0 ? double.NaN : (double)(non2xx + socket) / requests, 5),
            ["hitRatio"] = Json.Num(delta.ReadHitRatio, 4),
            ["originCalls"] = delta.OriginCalls,
            ["originPer1000"] = Json.Num(delta.Requests == 0 ? double.NaN : 1000.0 * delta.OriginCalls / delta.Requests, 1),
            ["originRateLimited"] = delta.OriginRateLimited,
            ["counters"] = delta.ToJson(),
            ["workingSetBytes"] = Json.Num(metrics.Max(m => m.Sum("dotnet_process_memory_working_set_bytes")), 0),
            ["l1SizeBytes"] = Json.Num(metrics.Max(m => m.Sum("optimizedcache_l1_size_bytes")), 0),
            ["wrk"] = new JsonArray([.. runs.Select(r => (JsonNode?)r)]),
        };
    }

    private static async Task<JsonObject> RunWrkAsync(string wrk, string script, Dictionary<string, string> environment, Uri api, int connections, int threads, TimeSpan duration)
    {
        var info = new ProcessStartInfo(wrk)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"-t{threads}", $"-c{connections}", $"-d{Math.Max(1, (int)Math.Round(duration.TotalSeconds))}s", "--timeout", "10s", "-s", script, api.ToString() })
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment)
        {
            info.Environment[k] = v;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = (await output).Split('\n').FirstOrDefault(l => l.StartsWith("RESULT_JSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no RESULT_JSON line (exit {process.ExitCode}): {await error}");
        return JsonNode.Parse(line["RESULT_JSON ".Length..])!.AsObject();
    }

    private async Task WriteTableAndChartsAsync(JsonObject data)
    {
        var table = new StringBuilder();
        table.AppendLine("| phase | connections | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | error rate | read hit ratio | origin calls | origin / 1000 req | working set MiB |");
        table.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var rows = (data["baseline"] is JsonObject b ? new[] { b } : []).Concat(data["steps"]!.AsArray().Select(s => s!.AsObject()));
        foreach (var r in rows)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {r["phase"]} | {r["connections"]} | {r["requestsPerSecond"]} | {r["p50Ms"]} | {r["p90Ms"]} | {r["p99Ms"]} | {r["p999Ms"]} | {Ratio(r["errorRate"], 2)} | {Ratio(r["hitRatio"], 1)} | {r["originCalls"]} | {r["originPer1000"]} | {Mib(r["workingSetBytes"])} |");
        }

        data["table"] = table.ToString();
        Console.WriteLine();
        Console.WriteLine(table);
        await File.WriteAllTextAsync(Path.Combine(ResultsDirectory, "stepped-load.md"), table.ToString());

        var steps = data["steps"]!.AsArray().Select(s => s!.AsObject()).ToList();
        (double, double) P(JsonObject s, string field, double scale = 1) => (Json.D(s["connections"]), Json.D(s[field]) * scale);
        await File.WriteAllTextAsync(Path.Combine(ResultsDirectory, "stepped-load-throughput.svg"), SvgChart.Render(
            "Stepped load: throughput", "connections", "requests/s", [new ChartSeries("requests/s", [.. steps.Select(s => P(s, "requestsPerSecond"))])]));
        await File.WriteAllTextAsync(Path.Combine(ResultsDirectory, "stepped-load-latency.svg"), SvgChart.Render(
            "Stepped load: latency", "connections", "ms",
            [new ChartSeries("p50", [.. steps.Select(s => P(s, "p50Ms"))]), new ChartSeries("p90", [.. steps.Select(s => P(s, "p90Ms"))]), new ChartSeries("p99", [.. steps.Select(s => P(s, "p99Ms"))])]));
        await File.WriteAllTextAsync(Path.Combine(ResultsDirectory, "stepped-load-cache.svg"), SvgChart.Render(
            "Stepped load: hit ratio and errors", "connections", "%",
            [new ChartSeries("read hit ratio %", [.. steps.Select(s => P(s, "hitRatio", 100))]), new ChartSeries("error rate %", [.. steps.Select(s => P(s, "errorRate", 100))])],
            [("goal 95%", 95), ("seed 60%", 60)], yMin: 0, yMax: 100));
    }

    internal static string Ratio(JsonNode? value, int decimals) => value is null ? "n/a" : Percent(Json.D(value), decimals);

    /// <summary>A fraction as a percentage (0.953 → "95.3%"); n/a when not a number.</summary>
    internal static string Percent(double fraction, int decimals) =>
        double.IsFinite(fraction) ? (fraction * 100).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "%" : "n/a";

    internal static string Mib(JsonNode? bytes) =>
        bytes is null ? "n/a" : (Json.D(bytes) / (1024 * 1024)).ToString("0", CultureInfo.InvariantCulture);
}
