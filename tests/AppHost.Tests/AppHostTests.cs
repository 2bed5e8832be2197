using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OptimizedCache.AppHost.Tests;

/// <summary>
/// The AppHost topology end to end: the Api behind Aspire's proxy with two replicas and Redis, the rollout
/// commands on the dashboard, metrics in Prometheus from every replica, Grafana up with its dashboards.
/// </summary>
public sealed class AppHostTests(AppHostFixture fixture) : IClassFixture<AppHostFixture>
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PhaseSettleTime = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan MetricsArrivalTime = TimeSpan.FromSeconds(60);

    // Consecutive answers showing a phase before it counts as in force on every replica: the proxy spreads
    // requests over both, and a replica learns a change from Redis pub/sub a moment after the other.
    private const int AgreeingAnswers = 8;

    [ContainerRuntimeFact]
    public async Task ProductReadIsMissThenHitAtPhaseThree()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var api = fixture.App.CreateHttpClient("api", "http");
        await SetPhaseAsync(api, 3, timeout.Token);
        using (var clear = await SendAdminAsync(api, "/admin/cache/clear", timeout.Token))
        {
            Assert.True(clear.IsSuccessStatusCode, $"cache clear answered {(int)clear.StatusCode}");
        }

        using var first = await api.GetAsync("/api/products/1", timeout.Token);
        using var second = await api.GetAsync("/api/products/1", timeout.Token);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("MISS", CacheHeader(first));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("HIT", CacheHeader(second));
    }

    [ContainerRuntimeFact]
    public async Task DashboardCommandsAdvanceAndRollBackThePhase()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var api = fixture.App.CreateHttpClient("api", "http");
        await SetPhaseAsync(api, 1, timeout.Token);

        await ExecuteCommandAsync(RolloutCommandNames.Advance, timeout.Token);
        Assert.True(await PhaseSettlesAsync(api, 2, timeout.Token), "advance did not reach phase 2");
        await ExecuteCommandAsync(RolloutCommandNames.RollBackCurrent, timeout.Token);
        Assert.True(await PhaseSettlesAsync(api, 1, timeout.Token), "rolling back the current phase did not return to phase 1");
        await ExecuteCommandAsync(RolloutCommandNames.Advance, timeout.Token);
        Assert.True(await PhaseSettlesAsync(api, 2, timeout.Token), "advance did not reach phase 2 again");
        await ExecuteCommandAsync(RolloutCommandNames.RollBackComplete, timeout.Token);
        Assert.True(await PhaseSettlesAsync(api, 0, timeout.Token), "rolling back completely did not reach phase 0");
    }

    [ContainerRuntimeFact]
    public async Task EveryReplicaReadsWhatAnotherWroteFromTheSharedStore()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var api = fixture.App.CreateHttpClient("api", "http");
        await SetPhaseAsync(api, 0, timeout.Token);
        var title = "Shared " + Guid.NewGuid().ToString("N")[..8];
        using (var update = await api.PutAsJsonAsync("/api/products/3", new { title }, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        }

        // The proxy spreads these reads over both replicas; at phase 0 each goes to the store.
        for (var i = 0; i < 6; i++)
        {
            var product = await api.GetFromJsonAsync<JsonElement>("/api/products/3", timeout.Token);
            Assert.Equal(title, product.GetProperty("title").GetString());
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/origin");
        request.Headers.Add("X-Api-Key", fixture.AdminApiKey);
        using var origin = await api.SendAsync(request, timeout.Token);
        var status = await origin.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
        Assert.Equal("shared", status.GetProperty("location").GetString());
    }

    [ContainerRuntimeFact]
    public async Task AdvanceCommandReportsTheConflictAtTheLastPhase()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var api = fixture.App.CreateHttpClient("api", "http");
        await SetPhaseAsync(api, 3, timeout.Token);

        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(
            await OneApiReplicaAsync(timeout.Token), RolloutCommandNames.Advance, timeout.Token);

        Assert.False(result.Success);
        Assert.StartsWith("409", result.Message);
        Assert.True(await PhaseSettlesAsync(api, 3, timeout.Token), "a refused advance moved the phase");
    }

    [ContainerRuntimeFact]
    public async Task PrometheusReceivesMetricsFromEveryApiReplica()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var api = fixture.App.CreateHttpClient("api", "http");
        using var prometheus = fixture.App.CreateHttpClient("prometheus", "http");
        for (var i = 0; i < 20; i++)
        {
            using var read = await api.GetAsync("/api/products/2", timeout.Token);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        // Replicas push every five seconds; poll until both have reported or a minute has passed.
        var replicas = await PollAsync(
            () => QueryScalarAsync(prometheus, "count(count by (instance) ({job=\"api\"}))", timeout.Token),
            count => count >= 2,
            timeout.Token);
        var requestSeries = await PollAsync(
            () => QueryScalarAsync(prometheus, "count(store_request_duration_seconds_count{job=\"api\"})", timeout.Token),
            count => count >= 1,
            timeout.Token);

        Assert.Equal(2, replicas);
        Assert.True(requestSeries >= 1, "no store_request_duration_seconds series from job api");
    }

    [ContainerRuntimeFact]
    public async Task GrafanaIsHealthyAndServesTheProvisionedDashboards()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var grafana = fixture.App.CreateHttpClient("grafana", "http");

        var health = await grafana.GetFromJsonAsync<JsonElement>("/api/health", timeout.Token);
        // Anonymous viewers may search dashboards; an empty list would mean the provisioning mount is wrong.
        var dashboards = await grafana.GetFromJsonAsync<JsonElement>("/api/search?type=dash-db", timeout.Token);

        Assert.Equal("ok", health.GetProperty("database").GetString());
        Assert.NotEqual(0, dashboards.GetArrayLength());
    }

    private async Task SetPhaseAsync(HttpClient api, int phase, CancellationToken cancellationToken)
    {
        using var response = await SendAdminAsync(api, $"/admin/rollout/phase/{phase}", cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"setting phase {phase} answered {(int)response.StatusCode}");
        Assert.True(await PhaseSettlesAsync(api, phase, cancellationToken), $"phase {phase} did not reach every replica");
    }

    private Task<HttpResponseMessage> SendAdminAsync(HttpClient api, string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = JsonContent.Create(new { reason = "AppHost integration test" }),
        };
        request.Headers.Add("X-Api-Key", fixture.AdminApiKey);
        return api.SendAsync(request, cancellationToken);
    }

    /// <summary>True once <see cref="AgreeingAnswers"/> answers in a row report the phase, false after <see cref="PhaseSettleTime"/>.</summary>
    private async Task<bool> PhaseSettlesAsync(HttpClient api, int phase, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        var agreeing = 0;
        while (agreeing < AgreeingAnswers)
        {
            if (elapsed.Elapsed > PhaseSettleTime)
            {
                return false;
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/rollout");
            request.Headers.Add("X-Api-Key", fixture.AdminApiKey);
            using var response = await api.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
            var rollout = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            agreeing = rollout.GetProperty("phase").GetInt32() == phase ? agreeing + 1 : 0;
            await Task.Delay(PollInterval, cancellationToken);
        }

        return true;
    }

    private async Task ExecuteCommandAsync(string command, CancellationToken cancellationToken)
    {
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(
            await OneApiReplicaAsync(cancellationToken), command, cancellationToken);
        Assert.True(result.Success, $"{command} failed: {result.Message}");
    }

    // Given the resource, ResourceCommandService runs a command once per replica; advancing twice is not
    // what a dashboard click does. One replica's id runs it once, as the click on that replica's row does.
    private async Task<string> OneApiReplicaAsync(CancellationToken cancellationToken) =>
        (await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("api", cancellationToken)).ResourceId;

    private static async Task<double> QueryScalarAsync(HttpClient prometheus, string query, CancellationToken cancellationToken)
    {
        var answer = await prometheus.GetFromJsonAsync<JsonElement>(
            $"/api/v1/query?query={Uri.EscapeDataString(query)}", cancellationToken);
        var result = answer.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0
            ? 0
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>The first value that satisfies <paramref name="done"/>, or the last one read after <see cref="MetricsArrivalTime"/>.</summary>
    private static async Task<double> PollAsync(Func<Task<double>> read, Func<double, bool> done, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        var value = await read();
        while (!done(value) && elapsed.Elapsed < MetricsArrivalTime)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            value = await read();
        }

        return value;
    }

    private static string? CacheHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Cache", out var values) ? values.SingleOrDefault() : null;
}
