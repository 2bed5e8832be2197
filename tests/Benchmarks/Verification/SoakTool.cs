using System.Globalization;
using System.Text.Json.Nodes;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>
/// Sustained load (seed 001 §4.3 持続的負荷テスト / 長期安定性テスト) sampling the replicas' working set, GC heap and
/// collections, and the cache hit ratio every <c>--interval</c>.
/// </summary>
/// <remarks>
/// Leak criterion: the first half of the run is warm-up (the JIT settles, the GC sizes its heap). Over the second half,
/// a least-squares line is fitted to the working set minus the L1 cache's own accounted size (largest replica) against
/// time: the cache may fill towards its budget (that growth is bounded and checked by the memory drill), anything else
/// growing is a leak. The run fails when that slope is above <c>--max-growth-mib-per-hour</c> (default 32 MiB/h) and
/// the line explains the data (R² ≥ <c>--min-r2</c>, default 0.5), i.e. it keeps growing rather than wandering around
/// a level. The raw working set's slope is reported beside it.
/// The run also fails when its error rate exceeds the seed's 0.5%.
/// </remarks>
public sealed class SoakTool : VerificationTool
{
    private static readonly TimeSpan MinimumJudgedDuration = TimeSpan.FromMinutes(10);

    /// <inheritdoc />
    public override string Name => "soak";

    /// <inheritdoc />
    public override string Description => "sustained load sampling working set, GC and hit ratio; fails if the working set keeps growing after warm-up";

    internal override IReadOnlyList<ToolOption> Options =>
    [
        new("api", "Api base URL (repeat for more replicas)", "http://127.0.0.1:5080", Repeatable: true),
        new("api-key", "the Api's admin key (X-Api-Key)", Environment.GetEnvironmentVariable("OC_API_KEY")),
        new("duration", "length of the run (any length: 90s, 30m, 48h)", "30m"),
        new("interval", "sampling interval", "10s"),
        new("concurrency", "load workers", "16"),
        new("products", "product ids of the load (Zipf)", "20000"),
        new("write-share", "share of requests that update a product", "0.02"),
        new("keep-rate-limit", "keep the simulated origin's rate limit on (off by default: its 503s would be counted as the cache's errors)", IsFlag: true),
        new("max-growth-mib-per-hour", "slope of the live heap less L1 over the second half above this fails (with R² at or above --min-r2)", "32"),
        new("min-growth-mib", "the growth the line fits over the second half must also exceed this (the noise floor)", "8"),
        new("min-r2", "R² from which the slope counts as a trend", "0.5"),
        new("max-error-rate", "error rate above this fails", "0.005"),
    ];

    internal override async Task<JsonObject> ExecuteAsync()
    {
        var apis = Args.Urls("api");
        var key = Args.Required("api-key");
        var duration = Args.Duration("duration");
        var interval = Args.Duration("interval");
        if (duration < interval * 4)
        {
            throw new ArgumentException($"option '--duration' ({duration}) must hold at least four intervals ({interval} each)", "duration");
        }

        var maxSlope = Args.Double("max-growth-mib-per-hour", 0);
        var minR2 = Args.Double("min-r2", 0, 1);
        var maxErrorRate = Args.Double("max-error-rate", 0, 1);
        var profile = new LoadProfile(Products: Args.Int("products", 1, 1_000_000), WriteShare: Args.Double("write-share", 0, 1));
        var admins = apis.Select(a => new ApiClient(a, key)).ToList();
        var originalPhase = await admins[0].GetPhaseAsync();
        var data = new JsonObject { ["durationSeconds"] = duration.TotalSeconds, ["intervalSeconds"] = interval.TotalSeconds, ["profile"] = profile.ToJson() };
        var origins = Args.Flag("keep-rate-limit") ? null : await ApiClient.DisableRateLimitAsync(admins);
        data["rateLimit"] = origins is null ? "on" : "off";
        try
        {
            await admins[0].SetPhaseAsync(3, "verification: soak runs with the cache fully on");
            using var load = new LoadGenerator(apis, Args.Int("concurrency", 1, 2_000), profile, TimeSpan.FromSeconds(30));
            await using var recorder = new DrillRecorder(load, admins, interval);
            var every = Math.Max(1, (int)(TimeSpan.FromSeconds(Math.Min(60, duration.TotalSeconds / 10)) / interval));
            var count = 0;
            recorder.OnSample = s =>
            {
                if (++count % every == 0)
                {
                    Progress(string.Create(CultureInfo.InvariantCulture,
                        $"{SteppedLoadTool.Percent(s.T / duration.TotalSeconds, 0)} t={s.T:0}s {s.Load.Requests / interval.TotalSeconds:0} req/s, working set {s.WorkingSetBytes / 1048576:0} MiB, heap {s.HeapBytes / 1048576:0} MiB, hit ratio {SteppedLoadTool.Percent(s.HitRatio, 1)}, failures {s.Load.Failures}"));
                }
            };
            await recorder.StartAsync();
            Progress($"soak: {duration} at phase 3, sampling every {interval.TotalSeconds:0} s");
            await Task.Delay(duration);
            await recorder.StopAsync();
            Judge(recorder, duration, maxSlope, Args.Double("min-growth-mib", 0), minR2, maxErrorRate, data);
            data["timeline"] = recorder.ToJson();
            await ChartsAsync(recorder);
        }
        finally
        {
            await admins[0].SetPhaseAsync(originalPhase, "verification: soak restores the phase it found");
            if (origins is not null)
            {
                await ApiClient.RestoreOriginsAsync(admins, origins);
            }

            foreach (var a in admins)
            {
                a.Dispose();
            }
        }

        return data;
    }

    private void Judge(DrillRecorder recorder, TimeSpan duration, double maxSlope, double minGrowth, double minR2, double maxErrorRate, JsonObject data)
    {
        var half = duration.TotalSeconds / 2;
        var second = recorder.Samples.Where(s => s.T > half && s.WorkingSetBytes > 0).ToList();
        var whole = recorder.LoadBetween(0, double.MaxValue);
        var secondLoad = recorder.LoadBetween(half, double.MaxValue);
        var hitRatios = recorder.Samples.Where(s => s.T > half && double.IsFinite(s.HitRatio)).Select(s => s.HitRatio).ToList();
        const string LeakCheck = "soak: memory (live heap after gen-2 collections, less the L1 cache) stops growing after warm-up";
        // Under ten minutes the second half is mostly warm-up noise: the figures are kept, the verdict is not given.
        var judged = duration >= MinimumJudgedDuration;
        var verdict = LeakCriterion.Judge(
            [.. recorder.Samples.Select(s => new LeakSample(s.T, s.Gen2Collections, s.LiveExcludingL1Bytes, s.WorkingSetExcludingL1Bytes))],
            half, maxSlope, minGrowth, minR2, judged);
        var workingSet = LeakCriterion.WorkingSetTrend(
            [.. recorder.Samples.Select(s => new LeakSample(s.T, 0, double.NaN, s.WorkingSetExcludingL1Bytes))], half);
        var raw = second.Count < 3
            ? "too few samples"
            : string.Create(CultureInfo.InvariantCulture, $"{Statistics.LinearRegression([.. second.Select(s => s.T / 3600)], [.. second.Select(s => s.WorkingSetBytes / 1048576)]).Slope:0.0} MiB/h");
        Record(new Check(LeakCheck, verdict.Leaking is null ? null : !verdict.Leaking,
            $"{verdict.Describe()}; beside it (GC slack included, not judged): {workingSet.Describe()}, raw working set {raw}",
            !judged
                ? $"not judged: a run under {MinimumJudgedDuration.TotalMinutes:0} min is too short to tell a trend from warm-up"
                : verdict.Leaking is null ? "too few points to fit a trend" : $"fails when slope > {maxSlope} MiB/h with R² >= {minR2} and fitted growth > {minGrowth} MiB"));
        data["leakBasis"] = verdict.Basis;
        data["leakPoints"] = verdict.Points;
        data["leakSlopeMibPerHour"] = Json.Num(verdict.SlopeMibPerHour, 2);
        data["leakR2"] = Json.Num(verdict.RSquared, 3);
        data["workingSetSlopeMibPerHour"] = Json.Num(workingSet.SlopeMibPerHour, 2);
        data["workingSetR2"] = Json.Num(workingSet.RSquared, 3);

        var errorRate = whole.Requests == 0 ? double.NaN : (double)whole.Failures / whole.Requests;
        Record(new Check("soak: error rate", errorRate <= maxErrorRate, $"{SteppedLoadTool.Percent(errorRate, 3)} ({whole.Failures} of {whole.Requests})", $"at most {SteppedLoadTool.Percent(maxErrorRate, 1)}"));
        var hit = hitRatios.Count == 0 ? double.NaN : hitRatios.Average();
        Console.WriteLine($"INFO  soak: cache hit ratio over the second half {SteppedLoadTool.Percent(hit, 1)}; {whole.Requests} requests, p99 {whole.Latency.PercentileMs(99):0.0} ms");
        data["requests"] = whole.Requests;
        data["failures"] = whole.Failures;
        data["errorRate"] = Json.Num(errorRate, 6);
        data["secondHalf"] = secondLoad.ToJson();
        data["hitRatioSecondHalf"] = Json.Num(hit, 4);
        data["peakWorkingSetBytes"] = Json.Num(recorder.Samples.Select(s => s.WorkingSetBytes).DefaultIfEmpty(0).Max(), 0);
        data["gen2Collections"] = Json.Num(recorder.Samples.Sum(s => s.Gen2Collections), 0);
        data["gcCollections"] = Json.Num(recorder.Samples.Sum(s => s.GcCollections), 0);
    }

    private async Task ChartsAsync(DrillRecorder recorder)
    {
        var samples = recorder.Samples;
        await File.WriteAllTextAsync(Path.Combine(ResultsDirectory, "soak-memory.svg"), SvgChart.Render(
            "Soak: memory", "seconds", "MiB",
            [
                new ChartSeries("working set (largest replica)", [.. samples.Select(s => (s.T, s.WorkingSetBytes / 1048576))]),
                new ChartSeries("working set less L1", [.. samples.Select(s => (s.T, s.WorkingSetExcludingL1Bytes / 1048576))]),
                new ChartSeries("GC heap (all replicas)", [.. samples.Select(s => (s.T, s.HeapBytes / 1048576))]),
                new ChartSeries("live heap after gen 2, less L1", [.. samples.Where(s => double.IsFinite(s.LiveExcludingL1Bytes)).Select(s => (s.T, s.LiveExcludingL1Bytes / 1048576))]),
                new ChartSeries("L1 size", [.. samples.Select(s => (s.T, s.L1SizeBytes / 1048576))]),
            ]));
        await File.WriteAllTextAsync(Path.Combine(ResultsDirectory, "soak-cache.svg"), SvgChart.Render(
            "Soak: hit ratio and GC", "seconds", "% / count",
            [
                new ChartSeries("hit ratio %", [.. samples.Select(s => (s.T, s.HitRatio * 100))]),
                new ChartSeries("GCs per interval", [.. samples.Select(s => (s.T, s.GcCollections))]),
            ], [("goal 95%", 95)], yMin: 0));
    }
}
