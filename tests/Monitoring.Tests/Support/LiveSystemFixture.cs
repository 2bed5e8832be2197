using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests.Support;

/// <summary>
/// The live system's tests share one topology and run alone: six real processes (and traffic) on a small
/// machine would slow every other test's timed steps, and theirs would be slowed in turn.
/// </summary>
[CollectionDefinition(nameof(LiveSystemCollection), DisableParallelization = true)]
public sealed class LiveSystemCollection : ICollectionFixture<LiveSystemFixture>;

/// <summary>
/// The whole system as real processes on loopback, started by the AppHost (executables mode) from the binaries this test
/// run was built with (<c>--no-build</c>, this assembly's configuration): Redis, the shared store origin, two Api
/// replicas, Prometheus (the repository's rules, one-second scrapes) and Monitoring, whose guard runs with a short
/// window and interval (<see cref="Window"/>, <see cref="Interval"/>) so a rollback happens in seconds. Steady
/// traffic runs from the start; the guard takes its baseline from the phase-0 traffic, then the rollout is set to
/// phase 2, where every test starts.
/// </summary>
public sealed class LiveSystemFixture : IAsyncLifetime
{
    /// <summary>The guard's window (every trigger's, and the baseline's).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(15);

    /// <summary>Time between two guard evaluations.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>Requests a trigger needs in the window: the traffic brings about ten times as many.</summary>
    public const int MinimumRequests = 100;

    /// <summary>Seconds between Prometheus scrapes (and rule evaluations).</summary>
    public const int ScrapeIntervalSeconds = 1;

    /// <summary>A generous bound for anything that should happen within a few seconds on an idle machine.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(240);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly BoundedLog _launcherLog = new(300);
    private Process? _launcher;
    private TrafficGenerator? _traffic;
    private Dictionary<string, string> _urls = [];

    /// <summary>The run folder (logs, generated config, the admin key).</summary>
    public string RunDirectory { get; } = Path.Combine(Path.GetTempPath(), "oc-live-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>A client for every part (30 s timeout).</summary>
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The admin key the Api replicas and Monitoring share.</summary>
    public string AdminKey { get; private set; } = string.Empty;

    /// <summary>The first Api replica (the one Monitoring talks to).</summary>
    public Uri Api1 => Url("api-1");

    /// <summary>The second Api replica.</summary>
    public Uri Api2 => Url("api-2");

    /// <summary>Both replicas.</summary>
    public IReadOnlyList<Uri> Replicas => [Api1, Api2];

    /// <summary>Monitoring.</summary>
    public Uri Monitoring => Url("monitoring");

    /// <summary>Prometheus.</summary>
    public Uri Prometheus => Url("prometheus");

    /// <summary>When both replicas last reported a newly set phase.</summary>
    public DateTimeOffset PhaseSetAt { get; private set; }

    /// <summary>The background traffic.</summary>
    public TrafficGenerator Traffic => _traffic ?? throw new InvalidOperationException("The live system has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch (Exception e)
        {
            var diagnostics = Diagnostics();
            await DisposeAsync();
            throw new InvalidOperationException($"The live system did not start: {e.Message}\n{diagnostics}", e);
        }
    }

    private async Task StartAsync()
    {
        var configuration = typeof(LiveSystemFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var appHost = Path.Combine(RepositoryPaths.Root, "AppHost", "bin", configuration, "net10.0", "OptimizedCache.AppHost.dll");
        if (!File.Exists(appHost))
        {
            throw new InvalidOperationException($"{appHost} is missing: build the solution first (./test.sh does, with -c Release).");
        }

        AdminKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        string[] arguments =
        [
            appHost, "AppHost:Containers=false", "AppHost:Dashboard=false", $"AppHost:RunDirectory={RunDirectory}",
            $"AppHost:ScrapeInterval=00:00:{ScrapeIntervalSeconds:00}", "Parameters:rollout-initial-phase=0",
            // An origin slower than a cache hit by far, so the cached path's latency never approaches the baseline's,
            // yet fast enough for the traffic's pace.
            "AppHost:Environment:store:Origin__LatencyMedianMs=40", "AppHost:Environment:store:Origin__LatencySigma=0.3",
            "AppHost:Environment:store:Origin__LatencyMaxMs=300",
            $"AppHost:Environment:monitoring:Monitoring__Guard__Window={Window:c}",
            $"AppHost:Environment:monitoring:Monitoring__Guard__Interval={Interval:c}",
            $"AppHost:Environment:monitoring:Monitoring__Guard__Cooldown={Window:c}",
            $"AppHost:Environment:monitoring:Monitoring__Guard__MinimumRequests={MinimumRequests}",
            // The tests here drive the hit-ratio trigger with a flood of never-seen keys. On a 2-core machine running
            // six processes and the traffic, such a flood (every read a miss that also writes L1 and L2) can push the
            // cached path's p95 past +20% of a baseline taken under calmer traffic, and the response-time trigger
            // would pre-empt the one under test. Its rule is covered against measured values in TriggerEvaluatorTests;
            // here it fires only on a slowdown of four times the reference.
            "AppHost:Environment:monitoring:Monitoring__Guard__Triggers__LatencyIncreasePercent=300",
        ];
        _launcher = ServerProcess.Start("dotnet", arguments, _launcherLog, RepositoryPaths.Root,
            new Dictionary<string, string> { ["Parameters__admin-api-key"] = AdminKey });
        await WaitForAsync(() => Task.FromResult(File.Exists(Path.Combine(RunDirectory, "ready"))), StartupTimeout, "the AppHost to report every resource healthy");
        _urls = File.ReadAllLines(Path.Combine(RunDirectory, "urls"))
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2 && parts[1].Length > 0)
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);

        // Warm each replica's cached path (its code, and its L1 with the hot products; the second replica finds them in
        // L2 already, so HIT as well as MISS is a cached answer) before any window the guard
        // measures: otherwise the first cached requests after the advance to phase 2 are all misses paying the
        // cold path too (about twice the baseline's p95 here), and in a 15 s window they make the response-time
        // trigger fire before the test begins. 80 lookups stay under MinimumRequests, so the guard does not judge
        // this excursion; the baseline waits until a whole window has passed at phase 0 again.
        await SetPhaseAsync(3, "live system: warm the cached path");
        foreach (var replica in Replicas)
        {
            var (reads, _) = await ProbeAsync(replica, reads: TrafficGenerator.HotProducts, writes: 0);
            if (reads.Any(r => r.Status != 200 || r.Cache is not ("MISS" or "HIT")))
            {
                throw new InvalidOperationException($"warming {replica} at phase 3 answered: {string.Join(", ", reads)}");
            }
        }

        await SetPhaseAsync(0, "live system: phase 0 for the baseline");

        // Eight workers at ten requests a second each: about 80 requests a second over both replicas.
        _traffic = TrafficGenerator.Start(Replicas, workers: 8, period: TimeSpan.FromMilliseconds(100), lifetime: TimeSpan.FromMinutes(10));

        // The guard takes its baseline from phase-0 traffic by itself.
        await WaitForAsync(
            async () => (await GuardStatusAsync()).GetProperty("baseline").ValueKind == JsonValueKind.Object,
            Patience + Patience,
            "the guard to take its phase-0 baseline");
        await SetPhaseAsync(2, "live system: phase 2 after the baseline");
    }

    /// <summary>Healthy traffic at phase 2 on both replicas, setting the phase when an earlier test left another.</summary>
    public async Task EnsureHealthyPhaseTwoAsync()
    {
        Traffic.Mode = TrafficMode.Healthy;
        if (await PhaseAsync(Api1) != 2 || await PhaseAsync(Api2) != 2)
        {
            await SetPhaseAsync(2, "live system: back to phase 2 for the next test");
        }
    }

    /// <summary><c>GET /admin/rollout</c> of one replica.</summary>
    public async Task<JsonElement> RolloutAsync(Uri replica)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(replica, "/admin/rollout"));
        request.Headers.Add("X-Api-Key", AdminKey);
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The phase one replica reports.</summary>
    public async Task<int> PhaseAsync(Uri replica) => (await RolloutAsync(replica)).GetProperty("phase").GetInt32();

    /// <summary>Sets the phase through the first replica and waits until both report it.</summary>
    public async Task SetPhaseAsync(int phase, string reason)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Api1, $"/admin/rollout/phase/{phase}"))
        {
            Content = JsonContent.Create(new { reason }),
        };
        request.Headers.Add("X-Api-Key", AdminKey);
        using var response = await Http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"setting phase {phase} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        await WaitForPhaseAsync(phase);
        PhaseSetAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Waits until both replicas report <paramref name="phase"/>.</summary>
    public Task WaitForPhaseAsync(int phase) =>
        WaitForAsync(async () => await PhaseAsync(Api1) == phase && await PhaseAsync(Api2) == phase, Patience, $"both replicas to report phase {phase}");

    /// <summary>Monitoring's <c>GET /api/status</c>.</summary>
    public async Task<JsonElement> GuardStatusAsync() => await Http.GetFromJsonAsync<JsonElement>(new Uri(Monitoring, "/api/status"));

    /// <summary>Monitoring's evaluations, newest first.</summary>
    public async Task<IReadOnlyList<GuardEvaluationView>> GuardHistoryAsync()
    {
        var history = await Http.GetFromJsonAsync<JsonElement>(new Uri(Monitoring, "/api/history?limit=500"));
        return [.. history.EnumerateArray().Select(e => e.Deserialize<GuardEvaluationView>(s_json)!)];
    }

    /// <summary>Waits for the first evaluation matching <paramref name="match"/>, and returns it.</summary>
    public async Task<GuardEvaluationView> WaitForEvaluationAsync(Func<GuardEvaluationView, bool> match, TimeSpan timeout, string what)
    {
        GuardEvaluationView? found = null;
        IReadOnlyList<GuardEvaluationView> history = [];
        try
        {
            await WaitForAsync(
                async () => (found = (history = await GuardHistoryAsync()).Where(match).MinBy(e => e.Sequence)) is not null,
                timeout,
                what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; the guard's last decisions:\n{Describe(history.Take(20))}\n{Diagnostics()}", e);
        }

        return found!;
    }

    /// <summary>An instant query; throws <see cref="InvalidOperationException"/> with Prometheus' error when it is rejected.</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        using var response = await Http.GetAsync(new Uri(Prometheus, "/api/v1/query?query=" + Uri.EscapeDataString(promql)));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode || body.GetProperty("status").GetString() != "success")
        {
            var error = body.TryGetProperty("error", out var e) ? e.GetString() : response.StatusCode.ToString();
            throw new InvalidOperationException($"Prometheus rejected '{promql}': {error}");
        }

        return body.GetProperty("data").GetProperty("result");
    }

    /// <summary>Sends <paramref name="reads"/> reads of hot products and <paramref name="writes"/> inventory adjustments to one replica.</summary>
    /// <returns>Each answer's status code and <c>X-Cache</c>.</returns>
    public async Task<(List<(int Status, string Cache)> Reads, List<(int Status, string Cache)> Writes)> ProbeAsync(Uri replica, int reads, int writes)
    {
        var readAnswers = new List<(int, string)>();
        var writeAnswers = new List<(int, string)>();
        for (var i = 0; i < reads; i++)
        {
            using var response = await Http.GetAsync(new Uri(replica, $"/api/products/{1 + (i % TrafficGenerator.HotProducts)}"));
            readAnswers.Add(((int)response.StatusCode, CacheHeader(response)));
        }

        for (var i = 0; i < writes; i++)
        {
            using var response = await Http.PostAsJsonAsync(new Uri(replica, $"/api/inventory/{19_000 + i}/adjust"), new { delta = 1 });
            writeAnswers.Add(((int)response.StatusCode, CacheHeader(response)));
        }

        return (readAnswers, writeAnswers);
    }

    /// <summary>What a failed assertion should show: the traffic's outcomes, the guard's last decisions, and the end of every log.</summary>
    public string Diagnostics()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"run folder: {RunDirectory}\ntraffic:\n{_traffic?.Describe() ?? "  (not started)\n"}");
        text.Append(CultureInfo.InvariantCulture, $"launcher:\n{_launcherLog}\n");
        var logs = Path.Combine(RunDirectory, "logs");
        if (Directory.Exists(logs))
        {
            foreach (var log in Directory.GetFiles(logs, "*.log").Order(StringComparer.Ordinal))
            {
                string[] lines;
                try
                {
                    lines = File.ReadAllLines(log);
                }
                catch (IOException)
                {
                    continue;
                }

                text.Append(CultureInfo.InvariantCulture, $"--- {Path.GetFileName(log)} (last 25 lines)\n");
                foreach (var line in lines.TakeLast(25))
                {
                    text.Append(line).Append('\n');
                }
            }
        }

        return text.ToString();
    }

    /// <summary>One line per evaluation, for failure messages.</summary>
    public static string Describe(IEnumerable<GuardEvaluationView> evaluations) =>
        string.Join('\n', evaluations.Select(e =>
            string.Create(CultureInfo.InvariantCulture, $"  #{e.Sequence} {e.Time:HH:mm:ss.fff} phase {e.Phase?.ToString(CultureInfo.InvariantCulture) ?? "?"} {e.Decision}: {e.Summary}")
            + string.Concat(e.Triggers.Where(t => t.State != "Ok").Select(t => $"\n      {t.Name} {t.State}: {t.Summary}"))));

    /// <summary>Polls <paramref name="condition"/> until it holds, failing with the diagnostics after <paramref name="timeout"/> or when the launcher exits.</summary>
    public async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // A part busy starting; the launcher's exit or the timeout decides.
            }

            if (_launcher is { HasExited: true })
            {
                throw new InvalidOperationException($"the launcher exited ({_launcher.ExitCode}) while waiting for {what}");
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            }

            await Task.Delay(250);
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_traffic is not null)
        {
            await _traffic.DisposeAsync();
            _traffic = null;
        }

        if (_launcher is not null)
        {
            await StopLauncherAsync(_launcher);
            _launcher.Dispose();
            _launcher = null;
        }

        Http.Dispose();
        try
        {
            Directory.Delete(RunDirectory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort; the folder is under the temp directory.
        }
    }

    private Uri Url(string part) =>
        _urls.TryGetValue(part, out var url) ? new Uri(url) : throw new InvalidOperationException($"The launcher reported no URL for {part}.");

    private static string CacheHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Cache", out var values) ? values.FirstOrDefault() ?? "none" : "none";

    /// <summary>SIGTERM, as a person would stop it: the AppHost stops every resource it started.</summary>
    private async Task StopLauncherAsync(Process launcher)
    {
        if (!launcher.HasExited)
        {
            await ServerProcess.SignalAsync(launcher.Id, "TERM");
            using var wait = new CancellationTokenSource(StopTimeout);
            try
            {
                await launcher.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                launcher.Kill(entireProcessTree: true);
            }
        }
    }
}

/// <summary>The parts of one guard evaluation (<c>GET /api/history</c>) the tests read.</summary>
/// <param name="Sequence">Its number.</param>
/// <param name="Time">When it ran.</param>
/// <param name="Phase">The phase the Api reported.</param>
/// <param name="Decision">What the guard decided.</param>
/// <param name="Summary">The decision in words.</param>
/// <param name="Trigger">The trigger behind a rollback.</param>
/// <param name="Triggers">Every trigger's state.</param>
public sealed record GuardEvaluationView(
    long Sequence,
    DateTimeOffset Time,
    int? Phase,
    string Decision,
    string Summary,
    string? Trigger,
    IReadOnlyList<TriggerView> Triggers);

/// <summary>One trigger in an evaluation.</summary>
/// <param name="Name">The trigger.</param>
/// <param name="State"><c>Ok</c>, <c>Firing</c> or <c>InsufficientData</c>.</param>
/// <param name="Value">The measured value.</param>
/// <param name="Threshold">Where it fires.</param>
/// <param name="Summary">What was measured against what.</param>
public sealed record TriggerView(string Name, string State, double? Value, double? Threshold, string Summary);
