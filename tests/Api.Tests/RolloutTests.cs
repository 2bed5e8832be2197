using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OptimizedCache.Api.Tests;

public sealed class RolloutTests
{
    [Fact]
    public async Task AdvanceWalksPhasesZeroToThreeWithThePlansPercentagesAndRefusesToPassTheLast()
    {
        await using var api = await ApiHost.StartAsync();
        int[][] expected = [[0, 0, 0, 0], [10, 10, 10, 0], [100, 100, 100, 10], [100, 100, 100, 100]];
        var status = await (await api.Client.GetAsync("/admin/rollout")).JsonAsync();
        Assert.Equal(0, status.GetProperty("phase").GetInt32());
        Assert.Equal("seed000", status.GetProperty("plan").GetString());
        for (var phase = 1; phase <= 3; phase++)
        {
            using var response = await api.Client.PostAsJsonAsync("/admin/rollout/advance", new { reason = $"go to {phase}" });
            status = await response.JsonAsync();
            Assert.Equal(phase, status.GetProperty("phase").GetInt32());
            var features = status.GetProperty("features");
            Assert.Equal(
                expected[phase],
                new[] { "Cache.LowRisk", "Cache.Reads", "Cache.VolatileReads", "Cache.Writes" }.Select(f => features.GetProperty(f).GetInt32()));
        }

        using var beyond = await api.Client.PostAsJsonAsync("/admin/rollout/advance", new { reason = "too far" });
        await beyond.AssertProblemAsync(409);
    }

    [Fact]
    public async Task RollbackCurrentStepsBackOnePhase()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        using var response = await api.Client.PostAsJsonAsync("/admin/rollout/rollback?scope=current", new { reason = "p99 up 25%" });
        Assert.Equal(2, (await response.JsonAsync()).GetProperty("phase").GetInt32());
    }

    [Fact]
    public async Task RollbackCompleteReturnsToPhaseZeroAndEveryRequestBypassesAtOnce()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        using (var cached = await api.Client.GetAsync("/api/products/3"))
        {
            Assert.Equal("MISS", cached.CacheHeader());
        }

        using var response = await api.Client.PostAsJsonAsync("/admin/rollout/rollback?scope=complete", new { reason = "hit rate under 40%" });
        Assert.Equal(0, (await response.JsonAsync()).GetProperty("phase").GetInt32());
        using var after = await api.Client.GetAsync("/api/products/3");
        Assert.Equal("BYPASS", after.CacheHeader());
    }

    [Fact]
    public async Task ChangesAreRecordedWithWhoWhenFromToAndWhy()
    {
        await using var api = await ApiHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/rollout/phase/2")
        {
            Content = JsonContent.Create(new { reason = "reads look healthy" }),
        };
        request.Headers.Add("X-Actor", "alice");
        using (await api.Client.SendAsync(request))
        {
        }

        var history = (await (await api.Client.GetAsync("/admin/rollout")).JsonAsync()).GetProperty("history");
        var change = history[0];
        Assert.Equal("alice", change.GetProperty("actor").GetString());
        Assert.Equal(0, change.GetProperty("from").GetInt32());
        Assert.Equal(2, change.GetProperty("to").GetInt32());
        Assert.Equal("reads look healthy", change.GetProperty("reason").GetString());
        Assert.True(change.GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Theory]
    [InlineData("/admin/rollout/phase/9", "{\"reason\":\"x\"}")]
    [InlineData("/admin/rollout/phase/two", "{\"reason\":\"x\"}")]
    [InlineData("/admin/rollout/advance", "{}")]
    [InlineData("/admin/rollout/advance", "{\"reason\":\"\"}")]
    [InlineData("/admin/rollout/rollback?scope=partial", "{\"reason\":\"x\"}")]
    public async Task ChangesWithABadPhaseScopeOrReasonAre400AndChangeNothing(string path, string body)
    {
        await using var api = await ApiHost.StartAsync();
        using var response = await api.Client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(400);
        var status = await (await api.Client.GetAsync("/admin/rollout")).JsonAsync();
        Assert.Equal(0, status.GetProperty("phase").GetInt32());
    }

    [Fact]
    public async Task TheRiskPlanCachesLowRiskEndpointsFirstThenProductsCatalogAndInventory()
    {
        await using var api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Rollout:Plan"] = "risk" });
        await api.SetPhaseAsync(1);
        Assert.Equal("MISS", (await api.Client.GetAsync("/api/metrics-summary")).CacheHeader());
        Assert.Equal("BYPASS", (await api.Client.GetAsync("/api/products/5")).CacheHeader());
        Assert.Equal("BYPASS", (await api.Client.GetAsync("/api/inventory/5")).CacheHeader());
        await api.SetPhaseAsync(2);
        Assert.Equal("MISS", (await api.Client.GetAsync("/api/products/5")).CacheHeader());
        Assert.Equal("MISS", (await api.Client.GetAsync("/api/inventory/5")).CacheHeader());
        Assert.Equal("BYPASS", (await api.Client.PostAsJsonAsync("/api/inventory/5/adjust", new { delta = 1 })).CacheHeader());
    }

    [Fact]
    public async Task TheConfiguredInitialPhaseAppliesWhenNothingIsStored()
    {
        await using var api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Rollout:InitialPhase"] = "3" });
        var status = await (await api.Client.GetAsync("/admin/rollout")).JsonAsync();
        Assert.Equal(3, status.GetProperty("phase").GetInt32());
        Assert.Equal(JsonValueKind.Array, status.GetProperty("history").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await api.Client.GetAsync("/api/products/1")).StatusCode);
    }

    [Fact]
    public async Task AChangeThatExpectsAnotherPhaseIsAConflictNamingThePhaseInForceAndMovesNothing()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(2);

        // the guard rolled 2 back to 1; the operator's click still says "from 2": it must not take 1 to 0
        using (var guard = await api.Client.PostAsJsonAsync("/admin/rollout/rollback?scope=current", new { reason = "guard", from = 2 }))
        {
            Assert.Equal(1, (await guard.JsonAsync()).GetProperty("phase").GetInt32());
        }

        using var stale = await api.Client.PostAsJsonAsync("/admin/rollout/rollback?scope=current", new { reason = "operator", from = 2 });
        var problem = await stale.AssertProblemAsync(409);
        Assert.Contains("phase in force is 1, not 2", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var advance = await api.Client.PostAsJsonAsync("/admin/rollout/advance", new { reason = "operator", from = 2 });
        await advance.AssertProblemAsync(409);
        var status = await (await api.Client.GetAsync("/admin/rollout")).JsonAsync();
        Assert.Equal(1, status.GetProperty("phase").GetInt32());
        Assert.Equal("guard", status.GetProperty("history")[0].GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("current")]
    [InlineData("complete")]
    public async Task RollingBackAtPhaseZeroIsAConflictAndRecordsNothing(string scope)
    {
        await using var api = await ApiHost.StartAsync();

        using var response = await api.Client.PostAsJsonAsync($"/admin/rollout/rollback?scope={scope}", new { reason = "nothing to undo" });

        var problem = await response.AssertProblemAsync(409);
        Assert.Contains("phase in force is 0", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await (await api.Client.GetAsync("/admin/rollout")).JsonAsync()).GetProperty("history").GetArrayLength());
    }

    [Fact]
    public async Task AFromOutsideThePlanIsABadRequestNamingIt()
    {
        await using var api = await ApiHost.StartAsync();

        using var response = await api.Client.PostAsJsonAsync("/admin/rollout/advance", new { reason = "typo", from = 9 });

        var problem = await response.AssertProblemAsync(400);
        Assert.Contains("from 9", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInitialPhaseOutsideThePlanFailsStartUpNamingTheRange()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Rollout:InitialPhase"] = "9" });
        });

        Assert.Contains("Rollout:InitialPhase is 9; plan 'seed000' has phases 0 to 3", error.ToString(), StringComparison.Ordinal);
    }
}
