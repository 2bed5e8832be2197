using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using StackExchange.Redis;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>
/// Fault drills under load (seed 001 §4.3 障害復旧テスト): Redis stopped and restarted, Redis slowed down, memory
/// pressure against the L1 budget, origin outage. Each drill runs the closed-loop load, marks the fault and the recovery
/// on a timeline sampled every <c>--interval</c>, and judges from that timeline. verification/README.md lists what each
/// drill proves and its thresholds.
/// </summary>
/// <remarks>
/// The Redis restart stops the server with <c>SHUTDOWN NOSAVE</c> and starts a new <c>redis-server</c> with the same
/// port, bind address, password and persistence settings (read with CONFIG GET before), daemonized, its pid in
/// <c>&lt;results&gt;/redis-restarted.pid</c>: whoever stops the system stops that process (run-all.sh does). A server
/// without persistence comes back empty, as a replaced cache node would.
/// </remarks>
public sealed class DrillsTool : VerificationTool
{
    private static readonly string[] AllDrills = ["redis-restart", "redis-slow", "memory", "origin"];

    /// <inheritdoc />
    public override string Name => "drills";

    /// <inheritdoc />
    public override string Description => "fault drills under load: redis-restart, redis-slow, memory, origin";

    internal override IReadOnlyList<ToolOption> Options =>
    [
        new("api", "Api base URL (repeat for more replicas)", "http://127.0.0.1:5080", Repeatable: true),
        new("api-key", "the Api's admin key (X-Api-Key)", Environment.GetEnvironmentVariable("OC_API_KEY")),
        new("redis", "Redis connection string the Api uses (for redis-restart and redis-slow; default $OC_REDIS, which keeps a password off the command line)", Environment.GetEnvironmentVariable("OC_REDIS") ?? "127.0.0.1:6379"),
        new("only", "drills to run, comma-separated", string.Join(",", AllDrills)),
        new("concurrency", "load workers", "16"),
        new("interval", "sampling interval", "500ms"),
        new("warmup", "load before each fault", "10s"),
        new("fault", "length of each fault", "10s"),
        new("recovery", "load after each fault", "10s"),
        new("redis-down", "time Redis stays stopped", "5s"),
        new("redis-stop", "how redis-restart stops Redis: 'shutdown' (SHUTDOWN NOSAVE, then a new redis-server with the same settings) or 'sigstop' (SIGSTOP, then SIGCONT: the process stays, for launchers that stop everything when a part exits)", "shutdown"),
        new("l2-back-goal", "L2 hits must resume within this after Redis is back", "5s"),
        new("redis-p99-bound", "redis-restart: p99 of every request over the whole drill must stay under this (with the cache's L2 deadline a frozen Redis costs a request at most that deadline)", "500ms"),
        new("pause-ms", "redis-slow: CLIENT PAUSE length (longer than the cache's L2 deadline, 250 ms by default, so calls time out)", "1500"),
        new("period-ms", "redis-slow: one pause every this many ms", "2000"),
        new("slow-bound-ms", "redis-slow: p99 during the slowdown must stay under this (the L2 timeout plus an origin call)", "1500"),
        new("memory-tolerance", "memory: L1 size may exceed its budget by this fraction", "0.10"),
        new("memory-api", "memory: run this drill against these replicas instead (repeat; same --api-key), e.g. ones started with a small Cache__L1MaximumBytes, so the drill presses the budget", Repeatable: true),
        new("origin-fault", "length of the origin outage (the guard evaluates every 15 s over a window: give it 45 s or more to react); default: --fault"),
        new("monitoring", "Monitoring base URL (origin drill: the guard's reaction from /api/status)"),
        new("prometheus", "Prometheus base URL (origin drill: alerts that fired)"),
        new("products", "product ids of the load (Zipf)", "20000"),
        new("keep-rate-limit", "keep the simulated origin's rate limit on (by default it is off during the drills, so its 503s do not hide the fault's effect)", IsFlag: true),
        new("keep-phase", "do not restore the phase the drill found (the guard's rollback stays)", IsFlag: true),
    ];

    internal override async Task<JsonObject> ExecuteAsync()
    {
        var apis = Args.Urls("api");
        var key = Args.Required("api-key");
        var only = Args.GetAll("only");
        foreach (var d in only.Where(d => !AllDrills.Contains(d)))
        {
            throw new ArgumentException($"option '--only': unknown drill '{d}'; drills: {string.Join(", ", AllDrills)}", "only");
        }

        var admins = apis.Select(a => new ApiClient(a, key)).ToList();
        var data = new JsonObject { ["apis"] = new JsonArray([.. apis.Select(a => (JsonNode?)a.ToString())]) };
        var stats = await admins[0].GetStatsJsonAsync();
        data["hasDistributedTier"] = stats["cache"]?["hasDistributedTier"]?.DeepClone();
        var originalPhase = await admins[0].GetPhaseAsync();
        data["phaseBefore"] = originalPhase;
        var origins = Args.Flag("keep-rate-limit") ? null : await ApiClient.DisableRateLimitAsync(admins);
        data["rateLimit"] = origins is null ? "on" : "off";
        try
        {
            foreach (var drill in only)
            {
                Console.WriteLine();
                Console.WriteLine($"== drill: {drill}");
                await admins[0].SetPhaseAsync(3, $"verification: drill {drill} runs with the cache fully on");
                data[drill] = drill switch
                {
                    "redis-restart" => await RedisRestartAsync(apis, admins),
                    "redis-slow" => await RedisSlowAsync(apis, admins),
                    "memory" => await MemoryOnAsync(apis, admins, key),
                    _ => await OriginAsync(apis, admins),
                };
            }
        }
        finally
        {
            if (origins is not null)
            {
                await ApiClient.RestoreOriginsAsync(admins, origins);
            }

            if (!Args.Flag("keep-phase"))
            {
                await admins[0].SetPhaseAsync(originalPhase, "verification: drills restore the phase they found");
            }

            foreach (var a in admins)
            {
                a.Dispose();
            }
        }

        return data;
    }

    private DrillRecorder Recorder(IReadOnlyList<Uri> apis, IReadOnlyList<ApiClient> admins, LoadProfile profile, out LoadGenerator load)
    {
        load = new LoadGenerator(apis, Args.Int("concurrency", 1, 2_000), profile, TimeSpan.FromSeconds(30));
        return new DrillRecorder(load, admins, Args.Duration("interval"));
    }

    private LoadProfile Profile(double pageShare = 0, double writeShare = 0.02) =>
        new(Products: Args.Int("products", 1, 1_000_000), WriteShare: writeShare, PageShare: pageShare);

    // --- Redis stopped and restarted -------------------------------------------------------------------------------

    private async Task<JsonObject> RedisRestartAsync(IReadOnlyList<Uri> apis, IReadOnlyList<ApiClient> admins)
    {
        var connection = Args.Required("redis");
        if (Args.Required("redis-stop") is not ("shutdown" or "sigstop"))
        {
            throw new ArgumentException($"option '--redis-stop' must be 'shutdown' or 'sigstop'; got '{Args.Get("redis-stop")}'", "redis-stop");
        }

        var endpoint = ConfigurationOptions.Parse(connection).EndPoints[0] switch
        {
            System.Net.DnsEndPoint dns => (Host: dns.Host, dns.Port),
            System.Net.IPEndPoint ip => (Host: ip.Address.ToString(), ip.Port),
            var other => throw new ArgumentException($"option '--redis' names an endpoint this drill cannot restart: {other}", "redis"),
        };
        Dictionary<string, string> config;
        string executable;
        int redisPid;
        await using (var admin = await AdminAsync(connection))
        {
            config = await ConfigAsync(admin.Server, ["port", "bind", "requirepass", "save", "appendonly", "dir", "dbfilename", "maxmemory", "maxmemory-policy", "protected-mode"]);
            var server = ParseInfo(await admin.Server.InfoRawAsync("server") ?? string.Empty);
            executable = server.GetValueOrDefault("executable") is { Length: > 0 } e && File.Exists(e)
                ? e : Testing.ServerProcess.Locate("redis-server", "redis-server");
            redisPid = int.Parse(server.GetValueOrDefault("process_id", "0"), CultureInfo.InvariantCulture);
        }

        var l2Goal = Args.Duration("l2-back-goal").TotalSeconds;
        var result = new JsonObject();
        await using var recorder = Recorder(apis, admins, Profile(), out var load);
        using (load)
        {
            await recorder.StartAsync();
            await Task.Delay(Args.Duration("warmup"));
            var phaseBefore = await admins[0].GetPhaseAsync();
            var mode = Args.Required("redis-stop");
            double stopped, started;
            var pidFile = Path.GetFullPath(Path.Combine(ResultsDirectory, "redis-restarted.pid"));
            if (mode == "sigstop")
            {
                stopped = recorder.Mark($"redis: SIGSTOP pid {redisPid}");
                await SignalAsync("STOP", redisPid);
                try
                {
                    await Task.Delay(Args.Duration("redis-down"));
                }
                finally
                {
                    await SignalAsync("CONT", redisPid);
                }

                started = recorder.Mark("redis: SIGCONT");
            }
            else
            {
                stopped = recorder.Mark("redis: SHUTDOWN NOSAVE");
                await using (var admin = await AdminAsync(connection))
                {
                    try
                    {
                        await admin.Server.ExecuteAsync("SHUTDOWN", "NOSAVE");
                    }
                    catch (RedisException)
                    {
                        // The server closes the connection instead of answering: that is the success case.
                    }
                }

                await Task.Delay(Args.Duration("redis-down"));
                await StartRedisAsync(executable, config, pidFile, Path.GetFullPath(Path.Combine(ResultsDirectory, "redis-restarted.log")));
                await WaitForPortAsync(endpoint.Host, endpoint.Port, TimeSpan.FromSeconds(15));
                started = recorder.Mark($"redis: started again (pid file {pidFile})");
                result["redisPidFile"] = pidFile;
            }

            await Task.Delay(Args.Duration("recovery"));
            var end = recorder.Mark("recovery window over");
            await recorder.StopAsync();

            var before = recorder.Between(0, stopped).Skip(1).ToList();
            var l2Before = before.Sum(s => s.L2Hits);
            var firstL2 = recorder.Between(started, double.MaxValue).FirstOrDefault(s => s.L2Hits > 0);
            var back = firstL2 is null ? double.NaN : Math.Max(0, firstL2.T - started);
            var whole = recorder.LoadBetween(0, double.MaxValue);
            var outage = recorder.LoadBetween(stopped, started + 1);
            var phaseAfter = await admins[0].GetPhaseAsync();
            Record(new Check("redis-restart: failed requests while Redis stopped and restarted", whole.Failures == 0,
                $"{whole.Failures} of {whole.Requests} ({outage.Failures} of {outage.Requests} during the outage)", "must be 0"));
            if (l2Before <= 0)
            {
                Record(new Check($"redis-restart: L2 hits back within {l2Goal:0} s", null, "no L2 hits before the fault",
                    "the Api has no L2 tier, or L1 answered everything; run with two replicas and an L2-enabled build"));
            }
            else
            {
                Record(new Check($"redis-restart: L2 hits back within {l2Goal:0} s", back <= l2Goal,
                    double.IsNaN(back) ? $"none within {end - started:0} s" : $"{back:0.0} s after Redis was back", "first sampling interval with L2 hits"));
            }

            var p99 = whole.Latency.PercentileMs(99);
            var p99Bound = Args.Duration("redis-p99-bound").TotalMilliseconds;
            Record(new Check("redis-restart: p99 over the whole drill", p99 <= p99Bound, $"{p99:0} ms over {whole.Requests} requests", $"must be <= {p99Bound:0} ms"));
            Record(new Check("redis-restart: rollout phase kept across the restart", phaseAfter == phaseBefore, $"{phaseBefore} → {phaseAfter}"));
            result["failures"] = whole.Failures;
            result["requests"] = whole.Requests;
            result["outageFailures"] = outage.Failures;
            result["l2HitsBefore"] = Json.Num(l2Before, 0);
            result["l2BackSeconds"] = Json.Num(back, 2);
            result["l2BackGoalSeconds"] = l2Goal;
            result["p99Ms"] = Json.Num(p99);
            result["phaseBefore"] = phaseBefore;
            result["phaseAfter"] = phaseAfter;
            result["stopMode"] = mode;
            result["load"] = whole.ToJson();
            result["timeline"] = recorder.ToJson();
        }

        await ChartAsync("drill-redis-restart.svg", "Drill: Redis stopped and restarted", recorder,
            [("requests", s => s.Load.Requests), ("failures", s => s.Load.Failures), ("L2 hits", s => s.L2Hits)], "per interval");
        return result;
    }

    private static async Task SignalAsync(string signal, int pid)
    {
        if (pid <= 1)
        {
            throw new InvalidOperationException($"Redis reported no usable process id ({pid}); sigstop needs Redis on this machine");
        }

        var info = new ProcessStartInfo("kill") { UseShellExecute = false };
        info.ArgumentList.Add("-" + signal);
        info.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        using var kill = Process.Start(info) ?? throw new InvalidOperationException("kill did not start");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} failed with {kill.ExitCode}");
        }
    }

    private static async Task StartRedisAsync(string executable, Dictionary<string, string> config, string pidFile, string logFile)
    {
        // Settings go in on stdin (redis-server -), so the password never shows in the process list.
        var lines = new StringBuilder();
        foreach (var (name, value) in config)
        {
            if (value.Length == 0 && name is not ("save" or "requirepass"))
            {
                continue;
            }

            if (name == "requirepass" && value.Length == 0)
            {
                continue;
            }

            lines.AppendLine(CultureInfo.InvariantCulture, $"{name} {Quote(value)}");
        }

        lines.AppendLine("daemonize yes");
        lines.AppendLine(CultureInfo.InvariantCulture, $"pidfile {Quote(pidFile)}");
        lines.AppendLine(CultureInfo.InvariantCulture, $"logfile {Quote(logFile)}");
        var info = new ProcessStartInfo(executable) { RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add("-");
        using var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        await process.StandardInput.WriteAsync(lines.ToString());
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-server exited with {process.ExitCode}; see {logFile}");
        }
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static async Task WaitForPortAsync(string host, int port, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(host, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on {host}:{port} within {timeout.TotalSeconds} s");
    }

    // --- Redis slowed down -----------------------------------------------------------------------------------------

    private async Task<JsonObject> RedisSlowAsync(IReadOnlyList<Uri> apis, IReadOnlyList<ApiClient> admins)
    {
        var pauseMs = Args.Int("pause-ms", 1, 60_000);
        var periodMs = Args.Int("period-ms", pauseMs + 1, 120_000);
        var bound = Args.Double("slow-bound-ms", 1);
        var result = new JsonObject { ["pauseMs"] = pauseMs, ["periodMs"] = periodMs, ["boundMs"] = bound };
        await using var recorder = Recorder(apis, admins, Profile(), out var load);
        using (load)
        {
            await using var admin = await AdminAsync(Args.Required("redis"));
            await recorder.StartAsync();
            await Task.Delay(Args.Duration("warmup"));
            var from = recorder.Mark($"redis: CLIENT PAUSE {pauseMs} ms every {periodMs} ms");
            var until = Stopwatch.StartNew();
            var fault = Args.Duration("fault");
            while (until.Elapsed < fault)
            {
                await admin.Server.ExecuteAsync("CLIENT", "PAUSE", pauseMs.ToString(CultureInfo.InvariantCulture), "ALL");
                await Task.Delay(periodMs);
            }

            await admin.Server.ExecuteAsync("CLIENT", "UNPAUSE");
            var to = recorder.Mark("redis: CLIENT UNPAUSE");
            await Task.Delay(Args.Duration("recovery"));
            await recorder.StopAsync();

            var baseline = recorder.LoadBetween(0, from);
            var slow = recorder.LoadBetween(from, to + 1);
            var whole = recorder.LoadBetween(0, double.MaxValue);
            var circuit = recorder.Between(from, double.MaxValue).Select(s => s.CircuitState).Where(c => c is not null).Select(c => c!.Value).DefaultIfEmpty(double.NaN).Max();
            var l2Errors = recorder.Between(from, double.MaxValue).Sum(s => s.L2Errors);
            Record(new Check("redis-slow: failed requests", whole.Failures == 0, $"{whole.Failures} of {whole.Requests}", "must be 0"));
            var p99 = slow.Latency.PercentileMs(99);
            Record(new Check("redis-slow: p99 latency stays bounded", p99 <= bound,
                string.Create(CultureInfo.InvariantCulture, $"p99 {p99:0.0} ms during (before {baseline.Latency.PercentileMs(99):0.0} ms), max {slow.Latency.MaxMs:0} ms"), $"p99 <= {bound} ms"));
            Record(double.IsNaN(circuit)
                ? new Check("redis-slow: circuit opened", null, "optimizedcache_l2_circuit_state not exported", "the Api has no L2 tier yet")
                : new Check("redis-slow: circuit opened", circuit >= 1, $"highest state {circuit:0} (0 closed, 1 half-open, 2 open); {l2Errors:0} L2 errors",
                    "timeouts must trip it: a Redis silent for half the breaker's window opens it, however many calls succeeded between pauses"));
            var after = recorder.Between(to + 1, double.MaxValue).Select(s => s.CircuitState).Where(c => c is not null).Select(c => c!.Value).ToList();
            if (!double.IsNaN(circuit) && circuit >= 1)
            {
                Record(new Check("redis-slow: circuit closed again once Redis answered", after.Count > 0 && after[^1] == 0,
                    after.Count == 0 ? "no sample after the slowdown" : $"state {after[^1]:0} at the end of the recovery", "L2 is used again after the slowdown"));
            }
            result["baseline"] = baseline.ToJson();
            result["slow"] = slow.ToJson();
            result["failures"] = whole.Failures;
            result["circuitMax"] = Json.Num(circuit, 0);
            result["l2Errors"] = Json.Num(l2Errors, 0);
            result["timeline"] = recorder.ToJson();
        }

        await ChartAsync("drill-redis-slow.svg", "Drill: Redis slowed down (CLIENT PAUSE)", recorder,
            [("p99 ms", s => s.Load.Latency.PercentileMs(99)), ("max ms", s => s.Load.Latency.MaxMs), ("circuit state ×100", s => (s.CircuitState ?? double.NaN) * 100)], "ms");
        return result;
    }

    // --- Memory pressure -------------------------------------------------------------------------------------------

    // With --memory-api the drill runs against those replicas (a system started with a small L1 budget), at phase 3,
    // and puts back the phase and the origins' rate limit it found there.
    private async Task<JsonObject> MemoryOnAsync(IReadOnlyList<Uri> apis, IReadOnlyList<ApiClient> admins, string key)
    {
        if (!Args.Has("memory-api"))
        {
            return await MemoryAsync(apis, admins);
        }

        var memoryApis = Args.Urls("memory-api");
        var memoryAdmins = memoryApis.Select(a => new ApiClient(a, key)).ToList();
        try
        {
            var phase = await memoryAdmins[0].GetPhaseAsync();
            var origins = Args.Flag("keep-rate-limit") ? null : await ApiClient.DisableRateLimitAsync(memoryAdmins);
            try
            {
                await memoryAdmins[0].SetPhaseAsync(3, "verification: memory drill runs with the cache fully on");
                var result = await MemoryAsync(memoryApis, memoryAdmins);
                result["apis"] = new JsonArray([.. memoryApis.Select(a => (JsonNode?)a.ToString())]);
                return result;
            }
            finally
            {
                if (origins is not null)
                {
                    await ApiClient.RestoreOriginsAsync(memoryAdmins, origins);
                }

                await memoryAdmins[0].SetPhaseAsync(phase, "verification: memory drill restores the phase it found");
            }
        }
        finally
        {
            foreach (var a in memoryAdmins)
            {
                a.Dispose();
            }
        }
    }

    private async Task<JsonObject> MemoryAsync(IReadOnlyList<Uri> apis, IReadOnlyList<ApiClient> admins)
    {
        var tolerance = Args.Double("memory-tolerance", 0, 10);
        var result = new JsonObject { ["tolerance"] = tolerance };
        // no writes: a product update invalidates every page (tag catalog:products), which would keep the large values
        // out of L1 and the budget unpressed
        await using var recorder = Recorder(apis, admins, Profile(pageShare: 0.5, writeShare: 0), out var load);
        using (load)
        {
            await recorder.StartAsync();
            var from = recorder.Mark("large values: half the requests list a page of 250 products (~37 KB each)");
            await Task.Delay(Args.Duration("warmup") + Args.Duration("fault"));
            recorder.Mark("memory drill over");
            await recorder.StopAsync();

            var samples = recorder.Samples;
            var whole = recorder.LoadBetween(0, double.MaxValue);
            var fills = samples.Where(s => s.L1Fill is not null).Select(s => s.L1Fill!.Value).ToList();
            var budget = samples.Select(s => s.L1BudgetBytes).DefaultIfEmpty(0).Max();
            var peak = samples.Select(s => s.L1SizeBytes).DefaultIfEmpty(0).Max();
            var maxFill = fills.DefaultIfEmpty(double.NaN).Max();
            var unreachable = samples.Sum(s => s.Unreachable);
            Record(new Check("memory: failed requests (no out-of-memory)", whole.Failures == 0 && unreachable == 0,
                $"{whole.Failures} failures of {whole.Requests}; /metrics unreachable in {unreachable} samples"));
            if (fills.Count == 0)
            {
                Record(new Check($"memory: L1 within budget ±{SteppedLoadTool.Percent(tolerance, 0)}", null, "optimizedcache_l1_size_bytes / _budget_bytes not exported"));
            }
            else if (peak < budget * 0.5)
            {
                Record(new Check($"memory: L1 within budget ±{SteppedLoadTool.Percent(tolerance, 0)}", null,
                    $"budget not reached: L1 peaked at {peak / 1048576:0.0} MiB of {budget / 1048576:0.0} MiB",
                    "the drill cannot press this budget; start the Api with a small L1 budget (Cache__L1MaximumBytes, a few MiB) to run it"));
            }
            else
            {
                Record(new Check($"memory: L1 within budget ±{SteppedLoadTool.Percent(tolerance, 0)}", maxFill <= 1 + tolerance,
                    $"peak {SteppedLoadTool.Percent(maxFill, 1)} of the budget ({peak / 1048576:0.0} of {budget / 1048576:0.0} MiB)", $"at most {SteppedLoadTool.Percent(1 + tolerance, 0)} in every sample"));
            }

            result["budgetBytes"] = Json.Num(budget, 0);
            result["peakL1Bytes"] = Json.Num(peak, 0);
            result["peakFill"] = Json.Num(maxFill, 4);
            result["peakWorkingSetBytes"] = Json.Num(samples.Select(s => s.WorkingSetBytes).DefaultIfEmpty(0).Max(), 0);
            result["failures"] = whole.Failures;
            result["pressed"] = fills.Count > 0 && peak >= budget * 0.5;
            result["load"] = whole.ToJson();
            result["timeline"] = recorder.ToJson();
            _ = from;
        }

        await ChartAsync("drill-memory.svg", "Drill: memory pressure (L1 size / budget)", recorder,
            [("L1 fill %", s => (s.L1Fill ?? double.NaN) * 100)], "% of budget", [("budget", 100), ($"+{SteppedLoadTool.Percent(tolerance, 0)}", 100 * (1 + tolerance))]);
        return result;
    }

    // --- Origin outage ---------------------------------------------------------------------------------------------

    private async Task<JsonObject> OriginAsync(IReadOnlyList<Uri> apis, IReadOnlyList<ApiClient> admins)
    {
        var result = new JsonObject();
        var behaviors = await Task.WhenAll(admins.Select(a => a.GetOriginBehaviorAsync()));
        var monitoring = Args.Get("monitoring") is { Length: > 0 } m ? ToolOptions.ParseUrl(m, "monitoring") : null;
        var prometheus = Args.Get("prometheus") is { Length: > 0 } p ? ToolOptions.ParseUrl(p, "prometheus") : null;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var guardLog = new JsonArray();
        var alerts = new SortedSet<string>(StringComparer.Ordinal);
        var pendingAlerts = new SortedSet<string>(StringComparer.Ordinal);
        var phases = new List<int>();
        await using var recorder = Recorder(apis, admins, Profile(), out var load);
        using (load)
        {
            await recorder.StartAsync();
            await Task.Delay(Args.Duration("warmup"));

            var from = recorder.Mark("origin: every call fails (errorRate 1)");
            double to;
            try
            {
                // Replicas each have their own simulated origin: break all of them.
                foreach (var (a, behavior) in admins.Zip(behaviors))
                {
                    var broken = behavior.DeepClone().AsObject();
                    broken["errorRate"] = 1.0;
                    broken["errorKind"] = "ServerError";
                    await a.SetOriginBehaviorAsync(broken);
                }

                var clock = Stopwatch.StartNew();
                var fault = Args.Get("origin-fault") is { Length: > 0 } ? Args.Duration("origin-fault") : Args.Duration("fault");
                while (clock.Elapsed < fault)
                {
                    phases.Add(await admins[0].GetPhaseAsync());
                    await PollObserversAsync(http, monitoring, prometheus, recorder, guardLog, alerts, pendingAlerts);
                    await Task.Delay(1000);
                }
            }
            finally
            {
                foreach (var (a, behavior) in admins.Zip(behaviors))
                {
                    await a.SetOriginBehaviorAsync(behavior);
                }

                to = recorder.Mark("origin: restored");
            }

            await Task.Delay(Args.Duration("recovery"));
            phases.Add(await admins[0].GetPhaseAsync());
            await PollObserversAsync(http, monitoring, prometheus, recorder, guardLog, alerts, pendingAlerts);
            await recorder.StopAsync();

            var outage = recorder.LoadBetween(from + 1, to);
            var stale = recorder.Between(from, to).Sum(s => s.StaleServed);
            var seen = outage.SeenReadOk + outage.SeenReadFailed;
            var seenOk = seen == 0 ? double.NaN : (double)outage.SeenReadOk / seen;
            var unseen = outage.UnseenReadOk + outage.UnseenReadFailed;
            var hung = outage.Status.GetValueOrDefault(0);
            Record(new Check("origin: reads of values served before the outage still answered", seenOk >= 0.99,
                string.Create(CultureInfo.InvariantCulture, $"{outage.SeenReadOk} of {seen} ({SteppedLoadTool.Percent(seenOk, 1)}); {stale:0} stale values served"), "at least 99% (cached or stale)"));
            Record(new Check("origin: reads with nothing cached fail cleanly", unseen == 0 || outage.UnseenReadFailed > 0,
                $"{outage.UnseenReadFailed} of {unseen} failed", "nothing to serve: an error, not a made-up value"));
            Record(new Check("origin: writes refused while the origin is down", outage.WriteOk + outage.WriteFailed == 0 || outage.WriteOk == 0,
                $"{outage.WriteFailed} failed, {outage.WriteOk} succeeded", "a write cannot be served from the cache"));
            Record(new Check("origin: failures answered, not hung", hung == 0, $"{hung} requests without an answer (timeouts, resets)"));
            var phaseDrop = phases.Count > 0 && phases.Min() < 3;
            var decisions = guardLog.Select(g => g!["decision"]!.GetValue<string>()).ToList();
            var firing = guardLog.SelectMany(g => g!["firing"]!.GetValue<string>().Split(',', StringSplitOptions.RemoveEmptyEntries)).Distinct().ToList();
            // A rollback (or a dry-run one) is the reaction; a firing error_rate trigger during a cooldown left by an
            // earlier rollback shows the guard saw the outage and would act once the cooldown ends.
            var reacted = phaseDrop || decisions.Any(d => d is "rolled_back" or "dry_run") || firing.Contains("error_rate");
            decisions.Add(firing.Count == 0 ? "no trigger fired" : $"triggers fired: {string.Join(", ", firing)}");

            Record(monitoring is null
                ? new Check("origin: guard reaction", null, phaseDrop ? $"phase went down to {phases.Min()}" : "no --monitoring URL given", "give --monitoring to read the guard's decision")
                : new Check("origin: guard reaction", reacted,
                    (phaseDrop ? $"rolled back to phase {phases.Min()}" : $"phase kept at {phases.LastOrDefault()}") + $"; decisions seen: {(decisions.Count == 0 ? "none" : string.Join(", ", decisions.Distinct()))}",
                    "the error-rate trigger should roll back (seed: error rate +0.5 pt over the guard's window)"));
            result["outage"] = outage.ToJson();
            result["staleServed"] = Json.Num(stale, 0);
            result["seenReadSuccess"] = Json.Num(seenOk, 4);
            result["phases"] = new JsonArray([.. phases.Select(x => (JsonNode?)x)]);
            result["guard"] = guardLog;
            result["alerts"] = new JsonArray([.. alerts.Select(a => (JsonNode?)a)]);
            result["alertsPending"] = new JsonArray([.. pendingAlerts.Except(alerts).Select(a => (JsonNode?)a)]);
            result["timeline"] = recorder.ToJson();
        }

        await ChartAsync("drill-origin.svg", "Drill: origin outage", recorder,
            [("requests", s => s.Load.Requests), ("failures", s => s.Load.Failures), ("stale served", s => s.StaleServed)], "per interval");
        return result;
    }

    // Alerts are recorded by state: firing, and pending (the rule's condition holds but its `for:` has not elapsed yet).
    private static async Task PollObserversAsync(
        HttpClient http, Uri? monitoring, Uri? prometheus, DrillRecorder recorder, JsonArray guardLog, SortedSet<string> alerts, SortedSet<string> pendingAlerts)
    {
        if (monitoring is not null)
        {
            try
            {
                var status = JsonNode.Parse(await http.GetStringAsync(new Uri(monitoring, "/api/status")))!;
                var guard = status["guard"];
                var decision = guard?["lastDecision"]?.GetValue<string>();
                var summary = guard?["lastSummary"]?.GetValue<string>();
                var firing = string.Join(",", status["triggers"]?.AsArray().Where(t => t?["state"]?.ToString() is "Firing" or "1").Select(t => t!["name"]!.GetValue<string>()) ?? []);
                var last = guardLog.Count > 0 ? guardLog[^1]!["summary"]?.GetValue<string>() + "|" + guardLog[^1]!["firing"]?.GetValue<string>() : null;
                if (decision is not null && summary + "|" + firing != last)
                {
                    guardLog.Add(new JsonObject
                    {
                        ["t"] = Json.Num(recorder.Now, 1), ["decision"] = decision, ["summary"] = summary, ["firing"] = firing,
                        ["dryRun"] = guard?["dryRun"]?.DeepClone(),
                    });
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // The guard's page being down during an outage is itself recorded as no decision.
            }
        }

        if (prometheus is not null)
        {
            try
            {
                var body = JsonNode.Parse(await http.GetStringAsync(new Uri(prometheus, "/api/v1/alerts")))!;
                foreach (var alert in body["data"]?["alerts"]?.AsArray() ?? [])
                {
                    if (alert?["labels"]?["alertname"]?.GetValue<string>() is { } name)
                    {
                        switch (alert["state"]?.GetValue<string>())
                        {
                            case "firing":
                                alerts.Add(name);
                                break;
                            case "pending":
                                pendingAlerts.Add(name);
                                break;
                        }
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // Prometheus unreachable: no alerts recorded.
            }
        }
    }

    // --- shared ----------------------------------------------------------------------------------------------------

    private async Task ChartAsync(string file, string title, DrillRecorder recorder, (string Name, Func<DrillSample, double> Pick)[] series, string yLabel,
        IReadOnlyList<(string, double)>? references = null)
    {
        var samples = recorder.Samples;
        var markers = recorder.Events.Select(e => (Label: e.Event.Split(" (")[0].Split(':').Last().Trim(), X: e.T)).ToList();
        var chart = SvgChart.Render(title, "seconds since the drill started (dotted lines: fault events)", yLabel,
            [.. series.Select(s => new ChartSeries(s.Name, [.. samples.Select(x => (x.T, s.Pick(x)))]))], references, markers: markers);
        await File.WriteAllTextAsync(Path.Combine(ResultsDirectory, file), chart);
    }

    private static async Task<Dictionary<string, string>> ConfigAsync(IServer server, string[] names)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            foreach (var (key, value) in await server.ConfigGetAsync(name))
            {
                if (key == name)
                {
                    config[name] = value;
                }
            }
        }

        return config;
    }

    // A connection for admin commands (CONFIG GET, INFO, SHUTDOWN, CLIENT PAUSE) on the first endpoint.
    private static async Task<AdminConnection> AdminAsync(string connection)
    {
        var options = ConfigurationOptions.Parse(connection);
        options.AllowAdmin = true;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        return new AdminConnection(multiplexer, multiplexer.GetServer(multiplexer.GetEndPoints()[0]));
    }

    private sealed record AdminConnection(ConnectionMultiplexer Multiplexer, IServer Server) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Multiplexer.DisposeAsync();
    }

    private static Dictionary<string, string> ParseInfo(string info) =>
        info.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(':', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => l.Split(':', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
}
