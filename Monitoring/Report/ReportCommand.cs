using System.Globalization;
using System.Text;
using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Prometheus;

namespace OptimizedCache.Monitoring.Report;

/// <summary>
/// <c>report --since 6h --out &lt;dir&gt;</c>: reads the rollout's figures for the period from Prometheus and writes
/// <c>report.md</c> (seed 001's performance checklist with measured values and pass or fail) and SVG charts.
/// Exit codes: 0 written, 1 Prometheus failed, 2 bad usage.
/// </summary>
public static class ReportCommand
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        usage: Monitoring report --since <duration> --out <dir> [--prometheus <url>] [--selector <matchers>] [--baseline <file>] [--min-requests <n>]
          --since         period to report on, ending now: 90m, 6h, 2d (1m … 90d)
          --out           folder to write report.md and the SVG charts into (created if missing)
          --prometheus    Prometheus base URL (default: Monitoring:Prometheus from appsettings.json or the environment)
          --selector      label matchers narrowing every series, e.g. job="api" (default: Monitoring:Guard:Selector)
          --baseline      baseline file (default: Monitoring:Guard:BaselinePath)
          --min-requests  requests a figure needs to count (default: Monitoring:Guard:MinimumRequests)
        """;

    private static readonly (string Chart, string File, Func<GuardOptions, double?> Threshold, string? Label)[] ChartFiles =
    [
        ("hit_ratio", "hit-ratio.svg", o => o.Targets.HitRatePercent, "target"),
        ("latency", "latency.svg", _ => null, null),
        ("origin_calls", "origin-calls.svg", _ => null, null),
        ("errors", "errors.svg", o => o.Targets.ErrorRatePercent, "limit"),
        ("memory", "memory.svg", o => o.Targets.MemoryAlertPercent, "alert"),
    ];

    /// <summary>Runs the command with the arguments after <c>report</c>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!TryParse(args, out var flags, out var problem))
        {
            await error.WriteLineAsync(problem);
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var monitoring = configuration.GetSection(MonitoringOptions.SectionName).Get<MonitoringOptions>() ?? new MonitoringOptions();
        var guard = configuration.GetSection(GuardOptions.SectionName).Get<GuardOptions>() ?? new GuardOptions();
        var prometheusText = flags.GetValueOrDefault("prometheus") ?? monitoring.Prometheus?.ToString();
        if (!Uri.TryCreate(prometheusText, UriKind.Absolute, out var prometheusUri) || prometheusUri.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"report: no valid Prometheus URL ('{prometheusText}'); pass --prometheus or set Monitoring:Prometheus.");
            await error.WriteLineAsync(Usage);
            return 2;
        }

        if (flags.TryGetValue("min-requests", out var min))
        {
            guard.MinimumRequests = int.Parse(min, CultureInfo.InvariantCulture);
        }

        if (flags.TryGetValue("selector", out var selector))
        {
            guard.Selector = selector;
        }

        var invalid = new OptionsValidation().Validate(null, guard);
        if (invalid.Failed)
        {
            await error.WriteLineAsync("report: " + invalid.FailureMessage);
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var since = flags["since"];
        Charts.TryParseRange(since, out var period);
        var outDir = Path.GetFullPath(flags["out"]);
        var baselinePath = flags.GetValueOrDefault("baseline") ?? guard.BaselinePath;
        Baseline? baseline;
        try
        {
            baseline = File.Exists(baselinePath) ? new BaselineStore(baselinePath).Current : null;
        }
        catch (InvalidDataException e)
        {
            await error.WriteLineAsync("report: " + e.Message);
            return 2;
        }

        using var http = new HttpClient
        {
            BaseAddress = prometheusUri.AbsoluteUri.EndsWith('/') ? prometheusUri : new Uri(prometheusUri.AbsoluteUri + "/"),
            Timeout = monitoring.PrometheusTimeout,
        };
        var prometheus = new PrometheusClient(http);
        var now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        try
        {
            var m = await Measurements.ReadAsync(prometheus, guard, period, now, cancellationToken, peakMemory: true);
            var targets = TargetEvaluator.Evaluate(m, baseline, guard);
            var charts = Charts.Create(guard);
            Directory.CreateDirectory(outDir);
            var chartLinks = new List<(string Title, string File)>();
            foreach (var (name, file, threshold, label) in ChartFiles)
            {
                var data = await Charts.ReadAsync(prometheus, charts[name], period, now, monitoring.ScrapeInterval, cancellationToken);
                await File.WriteAllTextAsync(Path.Combine(outDir, file), SvgChart.Render(data, threshold(guard), label), cancellationToken);
                chartLinks.Add((data.Title, file));
            }

            var markdown = Render(m, targets, baseline, guard, prometheusUri, since, now, chartLinks);
            var reportPath = Path.Combine(outDir, "report.md");
            await File.WriteAllTextAsync(reportPath, markdown, cancellationToken);
            var passed = targets.Count(t => t.Status is TargetStatus.Pass or TargetStatus.Warn);
            await output.WriteLineAsync($"report: wrote {reportPath} ({passed} of {targets.Count} checks pass) and {chartLinks.Count} charts");
            return 0;
        }
        catch (Exception e) when (e is PrometheusUnavailableException or PrometheusQueryException)
        {
            await error.WriteLineAsync("report: " + e.Message);
            return 1;
        }
    }

    private static bool TryParse(string[] args, out Dictionary<string, string> flags, out string problem)
    {
        flags = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] known = ["since", "out", "prometheus", "selector", "baseline", "min-requests"];
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                problem = $"report: unexpected argument '{arg}'.";
                return false;
            }

            var name = arg[2..];
            string? value = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }

            if (!known.Contains(name))
            {
                problem = $"report: unknown flag '--{name}'.";
                return false;
            }

            if (value is null)
            {
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    problem = $"report: flag '--{name}' needs a value.";
                    return false;
                }

                value = args[++i];
            }

            if (!flags.TryAdd(name, value))
            {
                problem = $"report: flag '--{name}' given twice.";
                return false;
            }
        }

        foreach (var required in new[] { "since", "out" })
        {
            if (!flags.TryGetValue(required, out var v) || string.IsNullOrWhiteSpace(v))
            {
                problem = $"report: missing --{required}.";
                return false;
            }
        }

        if (!Charts.TryParseRange(flags["since"], out var period) || period < TimeSpan.FromMinutes(1) || period > TimeSpan.FromDays(90))
        {
            problem = $"report: --since '{flags["since"]}' must be a duration such as 90m, 6h or 2d, between 1m and 90d.";
            return false;
        }

        if (flags.TryGetValue("min-requests", out var min)
            && (!int.TryParse(min, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1))
        {
            problem = $"report: --min-requests '{min}' must be a whole number of at least 1.";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    private static string Render(
        Measurements m, IReadOnlyList<TargetResult> targets, Baseline? baseline, GuardOptions o, Uri prometheus, string since,
        DateTimeOffset now, IReadOnlyList<(string Title, string File)> charts)
    {
        var md = new StringBuilder();
        var start = now - m.Window;
        md.AppendLine("# Cache rollout report");
        md.AppendLine();
        md.AppendLine(Invariant($"Period: {start.UtcDateTime:yyyy-MM-dd HH:mm:ss} – {now.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (last {since}). Source: Prometheus at {prometheus}."));
        md.AppendLine(Invariant($"A figure counts only with at least {o.MinimumRequests} requests in the period."));
        if (!string.IsNullOrEmpty(o.Selector))
        {
            md.AppendLine(Invariant($"Series selected by `{o.Selector}`."));
        }

        md.AppendLine();
        md.AppendLine("## Performance checklist (seed 001 §9)");
        md.AppendLine();
        md.AppendLine("| | check | goal | measured | result | how |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- |");
        (string Target, string Check)[] checklist =
        [
            ("api_call_reduction", "API calls reduced by at least 50% (API呼び出しが少なくとも50%削減)"),
            ("response_time_improvement", "Response time improved by 30% or more (レスポンスタイムが30%以上改善)"),
            ("memory", "Peak resource use within the allowed range (ピーク時のリソース使用量が許容範囲内)"),
            ("hit_rate", "Cache hit rate at its target of 60% or more (キャッシュヒット率が目標値を達成)"),
            ("error_rate", "Error rate within its limit (エラー率が増加していない)"),
        ];
        var pass = 0;
        foreach (var (name, check) in checklist)
        {
            var t = targets.Single(x => x.Name == name);
            var ok = t.Status is TargetStatus.Pass or TargetStatus.Warn;
            pass += ok ? 1 : 0;
            var result = t.Status switch
            {
                TargetStatus.Pass => "PASS",
                TargetStatus.Warn => "PASS (warning)",
                TargetStatus.Fail => "FAIL",
                _ => "NO DATA",
            };
            var value = t.Value is { } v ? Invariant($"{v:0.##}%") : "—";
            md.AppendLine(Invariant($"| {(ok ? "[x]" : "[ ]")} | {check} | {t.Goal} | {value} | **{result}** | {Cell(t.Detail)} |"));
        }

        md.AppendLine();
        md.AppendLine(Invariant($"**{pass} of {checklist.Length} checks pass.**"));
        md.AppendLine();
        md.AppendLine("## Baseline");
        md.AppendLine();
        if (baseline is null)
        {
            md.AppendLine("No phase-0 baseline was recorded; comparisons use the live bypass path over the same period.");
        }
        else
        {
            var latency = baseline.LatencySeconds is { } l ? Invariant($"{l * 1000:0.###} ms") : "—";
            var calls = baseline.OriginCallsPerRequest is { } c ? Invariant($"{c:0.###}") : "—";
            md.AppendLine(Invariant(
                $"Taken {baseline.TakenAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC from {baseline.Requests:0} phase-0 requests over {baseline.WindowSeconds:0} s: p{baseline.Quantile * 100:0.#} latency {latency}, error rate {baseline.ErrorRate * 100:0.###}%, origin calls per request {calls}."));
        }

        md.AppendLine();
        md.AppendLine("## Charts");
        md.AppendLine();
        foreach (var (title, file) in charts)
        {
            md.AppendLine(Invariant($"![{title}]({file})"));
            md.AppendLine();
        }

        md.AppendLine("## Figures");
        md.AppendLine();
        md.AppendLine("| figure | value | PromQL |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var f in m.Figures)
        {
            md.AppendLine(Invariant($"| {f.Name} | {(f.Value is { } v ? v.ToString("0.######", CultureInfo.InvariantCulture) : "no data")} | `{f.Query.Replace("|", "\\|", StringComparison.Ordinal)}` |"));
        }

        return md.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
