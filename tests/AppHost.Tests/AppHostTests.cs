using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OptimizedCache.AppHost.Tests;

/// <summary>
/// The AppHost's topology end to end in the executables mode: both Api replicas over one Redis and one store, the
/// rollout commands, Prometheus scraping every service with the repository's rules, the rollout guard reading it, and
/// Redis restarted through Aspire while clients read.
/// </summary>
[Collection(AppHostCollection.Name)]
public sealed class AppHostTests(AppHostFixture fixture)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan PhaseSettleTime = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MetricsArrivalTime = TimeSpan.FromSeconds(60);

    private HttpClient Client(string resource) => fixture.App.CreateHttpClient(resource, "http");

    [Fact]
    public async Task EveryResourceIsHealthyAndGrafanaSaysWhyItIsNotRunning()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        foreach (var resource in AppHostFixture.Resources)
        {
            var state = await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
            Assert.Equal(KnownResourceStates.Running, state.Snapshot.State?.Text);
        }

        if (HostingMode.FindOnPath("grafana-server") is null)
        {
            var grafana = await fixture.App.ResourceNotifications.WaitForResourceAsync("grafana", _ => true, timeout.Token);
            Assert.Contains("grafana-server not installed", grafana.Snapshot.State?.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AProductReadThroughEachReplicaIsAMissThenAHit()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await SetPhaseAsync(3, timeout.Token);
        var product = 11;
        foreach (var replica in AppHostFixture.Replicas)
        {
            using var api = Client(replica);
            product++;
            using var first = await api.GetAsync($"/api/products/{product}", timeout.Token);
            using var second = await api.GetAsync($"/api/products/{product}", timeout.Token);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("MISS", CacheHeader(first));
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal("HIT", CacheHeader(second));
        }
    }

    [Fact]
    public async Task AWriteThroughOneReplicaIsSeenThroughTheOtherWithinASecond()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await SetPhaseAsync(3, timeout.Token);
        using var writer = Client("api-1");
        using var reader = Client("api-2");
        using (var warm = await reader.GetAsync("/api/products/3", timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // the reader holds the old title now
        }

        var title = "Shared " + Guid.NewGuid().ToString("N")[..8];
        using (var update = await writer.PutAsJsonAsync("/api/products/3", new { title }, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        }

        // the writer's invalidation reaches the other replica's L1 over pub/sub a few milliseconds after the write
        // returns (loopback p99 6.7 ms): within a second, every read there shows the new title
        var seen = await EventuallyAsync(async () =>
        {
            var product = await reader.GetFromJsonAsync<JsonElement>("/api/products/3", timeout.Token);
            return product.GetProperty("title").GetString() == title ? title : null;
        }, TimeSpan.FromSeconds(1), timeout.Token);
        Assert.Equal(title, seen);
    }

    [Fact]
    public async Task EachDashboardCommandChangesThePhaseOnBothReplicas()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await SetPhaseAsync(1, timeout.Token);

        await ExecuteCommandAsync("api-1", RolloutCommandNames.Advance, timeout.Token);
        await AssertPhaseEverywhereAsync(2, timeout.Token);
        await ExecuteCommandAsync("api-2", RolloutCommandNames.RollBackCurrent, timeout.Token);
        await AssertPhaseEverywhereAsync(1, timeout.Token);
        await ExecuteCommandAsync("api-1", RolloutCommandNames.RollBackComplete, timeout.Token);
        await AssertPhaseEverywhereAsync(0, timeout.Token);
    }

    [Fact]
    public async Task AnAdvanceAtTheLastPhaseReportsTheConflict()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await SetPhaseAsync(3, timeout.Token);

        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync("api-2", RolloutCommandNames.Advance, timeout.Token);

        Assert.False(result.Success);
        Assert.StartsWith("409", result.Message, StringComparison.Ordinal);
        await AssertPhaseEverywhereAsync(3, timeout.Token);
    }

    [Fact]
    public async Task PrometheusScrapesEveryReplicaTheStoreAndMonitoringWithTheRulesLoaded()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var prometheus = Client("prometheus");
        string[] expected = [.. AppHostFixture.Replicas, "store", "monitoring"];

        var up = await EventuallyAsync(async () =>
        {
            var answer = await prometheus.GetFromJsonAsync<JsonElement>("/api/v1/query?query=up", timeout.Token);
            var series = answer.GetProperty("data").GetProperty("result").EnumerateArray()
                .Select(s => (Resource: s.GetProperty("metric").GetProperty("resource").GetString(), Value: s.GetProperty("value")[1].GetString()))
                .Where(s => s.Resource is not null)
                .ToList();
            return expected.All(r => series.Any(s => s.Resource == r && s.Value == "1")) ? series : null;
        }, MetricsArrivalTime, timeout.Token);
        Assert.NotNull(up);

        var rules = await prometheus.GetFromJsonAsync<JsonElement>("/api/v1/rules", timeout.Token);
        var groups = rules.GetProperty("data").GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("file").GetString()!).ToList();
        Assert.Contains(groups, file => file.EndsWith("recording.yml", StringComparison.Ordinal));
        Assert.Contains(groups, file => file.EndsWith("alerts.yml", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheRolloutGuardReadsPrometheusAndReportsHealthy()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var monitoring = Client("monitoring");

        var status = await EventuallyAsync(async () =>
        {
            var answer = await monitoring.GetFromJsonAsync<JsonElement>("/api/status", timeout.Token);
            return answer.GetProperty("prometheus").GetProperty("reachable").ValueKind == JsonValueKind.True
                && answer.GetProperty("api").GetProperty("reachable").ValueKind == JsonValueKind.True
                && answer.GetProperty("guard").GetProperty("status").GetString() is "healthy"
                ? (JsonElement?)answer
                : null;
        }, MetricsArrivalTime, timeout.Token);

        Assert.True(status is not null, "the guard did not report healthy with Prometheus and the Api reachable");
    }

    [Fact]
    public async Task RedisStoppedAndStartedThroughAspireFailsNoReadAndL2HitsComeBack()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await SetPhaseAsync(3, timeout.Token);
        using var stop = new CancellationTokenSource();
        var clients = AppHostFixture.Replicas.Select(Client).ToList();
        var failures = new List<string>();
        var reads = 0;
        var readers = clients.Select(client => Task.Run(async () =>
        {
            var id = 100;
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.GetAsync($"/api/products/{id++ % 50 + 100}", timeout.Token);
                Interlocked.Increment(ref reads);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    lock (failures)
                    {
                        failures.Add($"{(int)response.StatusCode} from {client.BaseAddress}");
                    }
                }
            }
        })).ToList();

        await ExecuteCommandAsync("cache", KnownResourceCommands.StopCommand, timeout.Token);
        await fixture.App.ResourceNotifications.WaitForResourceAsync("cache", KnownResourceStates.TerminalStates, timeout.Token);
        var readsWhileDown = reads;
        await EventuallyAsync(() => Task.FromResult(reads > readsWhileDown + 20 ? (int?)reads : null), TimeSpan.FromSeconds(30), timeout.Token);
        await ExecuteCommandAsync("cache", KnownResourceCommands.StartCommand, timeout.Token);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("cache", timeout.Token);

        // L2 answers again: a product cached through one replica is an L2 hit on the other
        var l2Hits = await EventuallyAsync(async () =>
        {
            var before = await L2HitsAsync(clients[1], timeout.Token);
            var id = Random.Shared.Next(1_000, 2_000);
            (await clients[0].GetAsync($"/api/products/{id}", timeout.Token)).Dispose();
            (await clients[1].GetAsync($"/api/products/{id}", timeout.Token)).Dispose();
            return await L2HitsAsync(clients[1], timeout.Token) > before ? (long?)before : null;
        }, TimeSpan.FromSeconds(30), timeout.Token);

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        clients.ForEach(c => c.Dispose());
        Assert.True(reads > readsWhileDown, "no read was made while Redis was down");
        Assert.Empty(failures);
        Assert.NotNull(l2Hits);
    }

    private async Task<long> L2HitsAsync(HttpClient api, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/cache/stats");
        request.Headers.Add("X-Api-Key", fixture.AdminApiKey);
        using var response = await api.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var stats = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return stats.GetProperty("cache").GetProperty("performance").GetProperty("l2Hits").GetInt64();
    }

    private async Task SetPhaseAsync(int phase, CancellationToken cancellationToken)
    {
        using var api = Client("api-1");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/rollout/phase/{phase}")
        {
            Content = JsonContent.Create(new { reason = "AppHost integration test" }),
        };
        request.Headers.Add("X-Api-Key", fixture.AdminApiKey);
        using var response = await api.SendAsync(request, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"setting phase {phase} answered {(int)response.StatusCode}");
        await AssertPhaseEverywhereAsync(phase, cancellationToken);
    }

    private async Task AssertPhaseEverywhereAsync(int phase, CancellationToken cancellationToken)
    {
        foreach (var replica in AppHostFixture.Replicas)
        {
            using var api = Client(replica);
            var seen = await EventuallyAsync(async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/rollout");
                request.Headers.Add("X-Api-Key", fixture.AdminApiKey);
                using var response = await api.SendAsync(request, cancellationToken);
                response.EnsureSuccessStatusCode();
                var rollout = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
                return rollout.GetProperty("phase").GetInt32() == phase ? (int?)phase : null;
            }, PhaseSettleTime, cancellationToken);
            Assert.True(seen is not null, $"{replica} did not reach phase {phase}");
        }
    }

    private async Task ExecuteCommandAsync(string resource, string command, CancellationToken cancellationToken)
    {
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(resource, command, cancellationToken);
        Assert.True(result.Success, $"{command} on {resource} failed: {result.Message}");
    }

    /// <summary>Polls until <paramref name="read"/> gives a value (not null), or gives null after <paramref name="within"/>.</summary>
    private static async Task<T?> EventuallyAsync<T>(Func<Task<T?>> read, TimeSpan within, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (await read() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                return default;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    private static string? CacheHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Cache", out var values) ? values.SingleOrDefault() : null;
}

/// <summary>Every test class that uses the AppHost shares one run of it.</summary>
[CollectionDefinition(Name)]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>
{
    public const string Name = "AppHost";
}
