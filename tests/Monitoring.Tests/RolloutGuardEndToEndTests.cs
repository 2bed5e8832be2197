using System.Globalization;
using System.Net.Http.Json;
using OptimizedCache.Monitoring.Tests.Support;
using Xunit.Abstractions;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>
/// The rollout guard end to end, every part a real process (<see cref="LiveSystemFixture"/>): at phase 2 under
/// steady traffic, a flood of never-seen products drives the hit ratio below 40%; the guard rolls phase 2 back by
/// itself, both replicas follow, requests whose flag is now off bypass the cache, and the guard's history and the
/// Api's rollout record name the trigger. Then, under healthy traffic at phase 2 again, the guard does nothing for a
/// whole window plus an interval.
/// </summary>
[Collection(nameof(LiveSystemCollection))]
public sealed class RolloutGuardEndToEndTests(LiveSystemFixture system, ITestOutputHelper output)
{
    /// <summary>
    /// Beyond the guard's window plus one interval, for the rollback to happen: a scrape for the first misses to
    /// reach Prometheus, the evaluation itself (sixteen queries and the rollback call) and a machine busy with six
    /// processes and the traffic. With equal rates of hot reads and unique reads the hit ratio crosses 40% after
    /// 60% of the window, so on an idle machine the rollback comes well inside the bound.
    /// </summary>
    private static readonly TimeSpan RollbackSlack = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Window = LiveSystemFixture.Window;
    private static readonly TimeSpan Interval = LiveSystemFixture.Interval;

    [Fact]
    public async Task FloodingTheCacheWithUniqueKeysRollsPhaseTwoBackOnBothReplicasAndHealthyTrafficIsLeftAlone()
    {
        await system.EnsureHealthyPhaseTwoAsync();

        // At phase 2 every read takes the cached path, so no read may say BYPASS; after the rollback most will.
        foreach (var replica in system.Replicas)
        {
            var (reads, _) = await system.ProbeAsync(replica, reads: 20, writes: 0);
            Assert.All(reads, r => Assert.Equal(200, r.Status));
            Assert.DoesNotContain(reads, r => r.Cache == "BYPASS");
        }

        // The guard sees a whole window of healthy phase-2 traffic and holds: every trigger evaluated, none firing.
        var steady = system.PhaseSetAt + Window;
        var healthy = await system.WaitForEvaluationAsync(
            e => e.Phase == 2 && e.Decision == "ok" && e.Time > steady, Window + LiveSystemFixture.Patience, "an 'ok' evaluation over a window at phase 2");

        // Flood: every read a product no one asked for yet.
        var floodStart = DateTimeOffset.UtcNow;
        system.Traffic.Mode = TrafficMode.UniqueKeys;
        GuardEvaluationView rollback;
        try
        {
            // The guard records its decision once the Api has answered the rollback, so its history is what to wait for.
            rollback = await system.WaitForEvaluationAsync(
                e => e.Sequence > healthy.Sequence && e.Decision is "rolled_back" or "rollback_failed" or "dry_run",
                Window + Interval + LiveSystemFixture.Patience,
                "the guard to roll phase 2 back");
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}; the guard's decisions:\n{LiveSystemFixture.Describe((await system.GuardHistoryAsync()).Take(30))}\n{system.Diagnostics()}");
            throw;
        }
        finally
        {
            system.Traffic.Mode = TrafficMode.Healthy;
        }

        var floodEnd = DateTimeOffset.UtcNow;
        var history = await system.GuardHistoryAsync();
        Assert.True(rollback.Decision == "rolled_back", LiveSystemFixture.Describe(history.Take(30)));
        Assert.Single(history, e => e.Sequence > healthy.Sequence && e.Decision == "rolled_back");

        // The guard's record names the trigger and its value.
        Assert.Equal(2, rollback.Phase);
        var hitRatio = Assert.Single(rollback.Triggers, t => t.Name == "hit_ratio");
        Assert.Equal("Firing", hitRatio.State, ignoreCase: true);
        Assert.True(hitRatio.Value < 40, $"hit ratio {hitRatio.Value}% at the rollback: {hitRatio.Summary}");
        Assert.Contains("hit_ratio:", rollback.Summary, StringComparison.Ordinal);

        // Within the window plus one interval of the flood's start (plus the documented slack).
        var took = rollback.Time - floodStart;
        Assert.True(
            took <= Window + Interval + RollbackSlack,
            $"the rollback came {took.TotalSeconds:0.0} s after the flood began; allowed {(Window + Interval + RollbackSlack).TotalSeconds} s\n{LiveSystemFixture.Describe(history.Take(30))}");

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rolled back {took.TotalSeconds:0.0} s after the flood began (window {Window.TotalSeconds} s, interval {Interval.TotalSeconds} s): {rollback.Summary}"));

        // Both replicas are at phase 1, and the shared rollout record says who and why.
        await system.WaitForPhaseAsync(1);
        var change = (await system.RolloutAsync(system.Api2)).GetProperty("history")[0];
        Assert.Equal("rollout-guard", change.GetProperty("actor").GetString());
        Assert.Equal(2, change.GetProperty("from").GetInt32());
        Assert.Equal(1, change.GetProperty("to").GetInt32());
        Assert.StartsWith("rollout-guard:", change.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("hit_ratio", change.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // Monitoring's status and metrics show the rollback too.
        var status = await system.GuardStatusAsync();
        Assert.Equal(rollback.Time, status.GetProperty("guard").GetProperty("lastRollbackAt").GetDateTimeOffset());
        // The exposition is cached for a moment (ServiceDefaults:ScrapeCacheDuration), so a scrape made just before the
        // rollback can still be served; the series must show up within a few scrape intervals.
        string[] guardLines = [];
        try
        {
            await system.WaitForAsync(
                async () =>
                {
                    var metrics = await system.Http.GetStringAsync(new Uri(system.Monitoring, "/metrics"));
                    guardLines = metrics.Split('\n').Where(l => l.StartsWith("rollout_guard_", StringComparison.Ordinal)).ToArray();
                    return guardLines.Any(line => line.StartsWith("rollout_guard_rollbacks_total{", StringComparison.Ordinal)
                        && line.Contains($"trigger=\"{rollback.Trigger}\"", StringComparison.Ordinal)
                        && line.Contains("outcome=\"executed\"", StringComparison.Ordinal));
                },
                TimeSpan.FromSeconds(5 * LiveSystemFixture.ScrapeIntervalSeconds),
                "the executed rollback to appear in Monitoring's /metrics");
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}; trigger '{rollback.Trigger}'; the rollout_guard series:\n{string.Join('\n', guardLines)}");
        }

        // Phase 1: writes are off (every write bypasses the cache), reads are at 10% (most bypass it).
        foreach (var replica in system.Replicas)
        {
            var (reads, writes) = await system.ProbeAsync(replica, reads: 40, writes: 10);
            Assert.All(writes, w => Assert.Equal((200, "BYPASS"), w));
            Assert.All(reads, r => Assert.Equal(200, r.Status));
            Assert.Contains(reads, r => r.Cache == "BYPASS");
        }

        // Healthy again: once the flood has left the window, an operator advances through the control panel's API.
        var clean = floodEnd + Window + TimeSpan.FromSeconds(2 * LiveSystemFixture.ScrapeIntervalSeconds) - DateTimeOffset.UtcNow;
        if (clean > TimeSpan.Zero)
        {
            await Task.Delay(clean);
        }

        using (var advance = new HttpRequestMessage(HttpMethod.Post, new Uri(system.Monitoring, "/api/rollout/advance"))
        {
            Content = JsonContent.Create(new { reason = "end-to-end test: the flood is over" }),
        })
        {
            advance.Headers.Add("X-Api-Key", system.AdminKey);
            using var response = await system.Http.SendAsync(advance);
            Assert.True(response.IsSuccessStatusCode, $"advance answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        await system.WaitForPhaseAsync(2);
        var advancedAt = DateTimeOffset.UtcNow;
        var first = await system.WaitForEvaluationAsync(
            e => e.Phase == 2 && e.Decision == "ok" && e.Time > advancedAt, LiveSystemFixture.Patience, "an 'ok' evaluation after advancing again");

        // The same period the rollback was allowed: a whole window plus an interval (and a scrape) of evaluations.
        var watchUntil = first.Time + Window + Interval + TimeSpan.FromSeconds(LiveSystemFixture.ScrapeIntervalSeconds);
        await system.WaitForAsync(
            async () => (await system.GuardHistoryAsync()).Any(e => e.Time >= watchUntil),
            Window + Interval + LiveSystemFixture.Patience,
            "the guard to evaluate through the healthy period");
        var period = (await system.GuardHistoryAsync()).Where(e => e.Sequence >= first.Sequence).Reverse().ToList();
        var described = LiveSystemFixture.Describe(period);
        Assert.True(period[^1].Time - period[0].Time >= Window + Interval, described);
        Assert.All(period, e => Assert.Equal(2, e.Phase));
        Assert.DoesNotContain(period, e => e.Decision is "rolled_back" or "cooldown" or "dry_run" or "rollback_failed");
        Assert.DoesNotContain(period, e => e.Triggers.Any(t => string.Equals(t.State, "Firing", StringComparison.OrdinalIgnoreCase)));
        Assert.True(period.Count(e => e.Decision == "ok") >= 3, described);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"healthy period: {period.Count} evaluations over {(period[^1].Time - period[0].Time).TotalSeconds:0.0} s, {period.Count(e => e.Decision == "ok")} 'ok'"));

        // Still phase 2 everywhere, and the last change on record is the operator's advance.
        Assert.Equal(2, await system.PhaseAsync(system.Api1));
        Assert.Equal(2, await system.PhaseAsync(system.Api2));
        var last = (await system.RolloutAsync(system.Api1)).GetProperty("history")[0];
        Assert.Equal("control-panel", last.GetProperty("actor").GetString());
        Assert.Equal(2, last.GetProperty("to").GetInt32());
        Assert.True(last.GetProperty("at").GetDateTimeOffset() < advancedAt, last.ToString());
    }
}
