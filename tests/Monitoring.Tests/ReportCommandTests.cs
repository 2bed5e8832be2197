using System.Xml.Linq;
using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Report;
using OptimizedCache.Monitoring.Tests.Support;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests;

/// <summary><c>Monitoring report</c>: figures from a real Prometheus into report.md and SVG charts.</summary>
public sealed class ReportCommandTests(PrometheusFarm farm) : IClassFixture<PrometheusFarm>, IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "oc-report-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task WritesTheChecklistWithMeasuredValuesPassOrFailAndSvgCharts()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        // Good on hits and origin calls; slow cached responses miss the response-time target.
        for (var i = 0; i < 3; i++)
        {
            env.Target.Requests("cached", 900, 0.04);
            env.Target.Requests("bypass", 300, 0.045);
            env.Target.OriginCalls("cached", 90);
            env.Target.OriginCalls("bypass", 300);
            env.Target.Lookups(l1Hits: 700, l2Hits: 110, misses: 90);
            await env.Target.WaitForScrapesAsync(2);
        }

        var (code, stdout, stderr) = await RunAsync(
            "--since", "2m", "--out", _out, "--prometheus", env.Prometheus.BaseAddress.ToString(), "--min-requests", "100",
            "--selector", env.Selector, "--baseline", Path.Combine(env.Directory, "none.json"));

        Assert.True(code == 0, stderr);
        Assert.Contains("report.md", stdout, StringComparison.Ordinal);
        var report = await File.ReadAllTextAsync(Path.Combine(_out, "report.md"));
        Assert.Contains("## Performance checklist (seed 001 §9)", report, StringComparison.Ordinal);
        Assert.Contains("**4 of 5 checks pass.**", report, StringComparison.Ordinal);
        Assert.Contains("| [x] | Cache hit rate at its target of 60% or more", report, StringComparison.Ordinal);
        Assert.Contains("| [ ] | Response time improved by 30% or more", report, StringComparison.Ordinal);
        Assert.Contains("**FAIL**", report, StringComparison.Ordinal);
        Assert.Contains("**PASS**", report, StringComparison.Ordinal);
        Assert.Contains("![Hit ratio](hit-ratio.svg)", report, StringComparison.Ordinal);
        foreach (var file in new[] { "hit-ratio.svg", "latency.svg", "origin-calls.svg", "errors.svg", "memory.svg" })
        {
            var svg = XDocument.Load(Path.Combine(_out, file));
            Assert.Equal("svg", svg.Root!.Name.LocalName);
            Assert.Contains(svg.Descendants(), e => e.Attribute("class")?.Value == "series");
        }
    }

    [Fact]
    public async Task ReportsTheFiguresOfThePeriod()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.HealthyTraffic();
        await env.Target.WaitForScrapesAsync(2);
        var (code, _, stderr) = await RunAsync(
            "--since", "1m", "--out", _out, "--prometheus", env.Prometheus.BaseAddress.ToString(), "--selector", env.Selector);
        Assert.True(code == 0, stderr);

        var report = await File.ReadAllTextAsync(Path.Combine(_out, "report.md"));
        Assert.Contains("**5 of 5 checks pass.**", report, StringComparison.Ordinal);
        Assert.Matches(@"\| \[x\] \| API calls reduced by at least 50%[^|]*\| ≥ 50% \| [89]\d(\.\d+)?% \| \*\*PASS\*\*", report);
        Assert.Contains(env.Selector, report, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--since", "6h" }, "missing --out")]
    [InlineData(new[] { "--out", "x" }, "missing --since")]
    [InlineData(new[] { "--since", "soon", "--out", "x" }, "--since 'soon' must be a duration")]
    [InlineData(new[] { "--since", "6h", "--out", "x", "--colour", "red" }, "unknown flag '--colour'")]
    [InlineData(new[] { "--since", "6h", "--out" }, "flag '--out' needs a value")]
    [InlineData(new[] { "--since", "6h", "--out", "x", "--prometheus", "not a url" }, "no valid Prometheus URL")]
    [InlineData(new[] { "--since", "6h", "--out", "x", "--prometheus", "http://127.0.0.1:9", "--selector", "job" }, "Selector must be PromQL label matchers")]
    public async Task BadFlagsPrintUsageAndExitWithTwo(string[] args, string message)
    {
        var (code, _, stderr) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Contains("usage: Monitoring report", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine("x", "report.md")));
    }

    [Fact]
    public async Task UnreachablePrometheusExitsWithOneAndWritesNothing()
    {
        var (code, _, stderr) = await RunAsync("--since", "1h", "--out", _out, "--prometheus", $"http://127.0.0.1:{ServerProcess.FreePort()}");

        Assert.Equal(1, code);
        Assert.Contains("unreachable", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_out, "report.md")));
    }

    [Fact]
    public void ChartsWithoutDataSaySo()
    {
        var svg = SvgChart.Render(new ChartData("hit_ratio", "Hit ratio <&>", "%", []));

        var document = XDocument.Parse(svg);
        Assert.Contains(document.Descendants(), e => e.Value == "no data");
        Assert.Contains(document.Descendants(), e => e.Value.Contains("Hit ratio <&>", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await ReportCommand.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
