using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>Monitoring as Program.cs builds it: its description lists every endpoint it maps.</summary>
public sealed class OpenApiTests
{
    [Fact]
    public async Task TheDescriptionListsEveryMappedEndpointWithTheKeySchemeOnAdminRoutes()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("Monitoring:ApiKey", "openapi-test-key");
            web.UseSetting("Monitoring:Guard:Enabled", "false");
        });
        using var client = factory.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var mapped = OpenApiCoverage.MappedOperations(factory.Services);
        Assert.NotEmpty(mapped);
        Assert.Equal(mapped, OpenApiCoverage.DescribedOperations(document));
        Assert.True(document.GetProperty("paths").GetProperty("/api/rollout/{action}").GetProperty("post").TryGetProperty("security", out _));
        Assert.False(document.GetProperty("paths").GetProperty("/api/status").GetProperty("get").TryGetProperty("security", out _));
    }
}
