using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace OptimizedCache.Api.Tests;

/// <summary>
/// Input that would change things silently is refused, through the Api as Program.cs builds it: an origin behaviour
/// with a missing or unknown field, malformed JSON, an order with a null line, and the same order at the store server.
/// </summary>
public sealed class AdminInputTests
{
    private const string Key = "admin-input-test-key";

    private static readonly object FullBehavior = new
    {
        latencyMedianMs = 5, latencySigma = 0.2, latencyMaxMs = 50, rateLimitBucketSize = 0, rateLimitLeakPerSecond = 0,
        errorRate = 0, errorKind = "ServerError",
    };

    private static WebApplicationFactory<Program> Factory(string? role = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("Admin:ApiKey", Key);
            if (role is not null)
            {
                web.UseSetting("Origin:Role", role);
            }
        });

    private static HttpClient AdminClient(WebApplicationFactory<Program> factory)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);
        return client;
    }

    [Fact]
    public async Task AnOriginBehaviourThatSetsNothingIsRefusedNamingEveryMissingField()
    {
        await using var factory = Factory();
        using var client = AdminClient(factory);
        var before = await client.GetFromJsonAsync<JsonElement>("/admin/origin");

        using var response = await client.PutAsJsonAsync("/admin/origin", new { });

        var problem = await response.AssertProblemAsync(400);
        var detail = problem.GetProperty("detail").GetString()!;
        foreach (var field in new[] { "latencyMedianMs", "latencySigma", "latencyMaxMs", "rateLimitBucketSize", "rateLimitLeakPerSecond", "errorRate", "errorKind" })
        {
            Assert.True(detail.Contains(field, StringComparison.Ordinal), $"{field} not named in: {detail}");
        }

        var after = await client.GetFromJsonAsync<JsonElement>("/admin/origin");
        Assert.Equal(before.GetProperty("behavior").ToString(), after.GetProperty("behavior").ToString());
    }

    [Fact]
    public async Task AMisspeltFieldIsRefusedNamingIt()
    {
        await using var factory = Factory();
        using var client = AdminClient(factory);
        var body = JsonSerializer.SerializeToNode(FullBehavior)!.AsObject();
        body["latencyMs"] = 3;

        using var response = await client.PutAsJsonAsync("/admin/origin", body);

        var problem = await response.AssertProblemAsync(400);
        Assert.Contains("Unknown field(s): 'latencyMs'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACompleteBehaviourIsApplied()
    {
        await using var factory = Factory();
        using var client = AdminClient(factory);

        using var response = await client.PutAsJsonAsync("/admin/origin", FullBehavior);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var after = await client.GetFromJsonAsync<JsonElement>("/admin/origin");
        Assert.Equal(5, after.GetProperty("behavior").GetProperty("latencyMedianMs").GetDouble());
    }

    [Theory]
    [InlineData("/admin/rollout/advance", """{ "reason": "x", """, "LineNumber")]
    [InlineData("/admin/rollout/advance", """{ "reason": 5 }""", "$.reason")]
    [InlineData("/api/orders", """{ "customerId": 1, "lines": [ { "productId": "seven", "quantity": 1 } ] }""", "$.lines[0].productId")]
    public async Task MalformedOrWronglyTypedJsonIsAProblemSayingWhereItBroke(string path, string json, string where)
    {
        await using var factory = Factory();
        using var client = AdminClient(factory);

        using var response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

        var problem = await response.AssertProblemAsync(400);
        Assert.Contains(where, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOrderWithANullLineSaysWhichLine()
    {
        await using var factory = Factory();
        using var client = AdminClient(factory);

        using var response = await client.PostAsJsonAsync("/api/orders", new { customerId = 1, lines = new object?[] { new { productId = 2, quantity = 1 }, null } });

        var problem = await response.AssertProblemAsync(400);
        Assert.Contains("lines[1] is null", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "customerId": 1, "lines": null }""", "lines must hold 1 to")]
    [InlineData("""{ "customerId": 1, "lines": [ null ] }""", "lines[0] is null")]
    [InlineData("""{ "customerId": 0, "lines": [ { "productId": 1, "quantity": 1 } ] }""", "customerId 0 is not an id")]
    public async Task TheStoreServerValidatesOrdersAsTheApiDoes(string json, string message)
    {
        await using var factory = Factory("Server");
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/origin/orders", new StringContent(json, Encoding.UTF8, "application/json"));

        var problem = await response.AssertProblemAsync(400);
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
