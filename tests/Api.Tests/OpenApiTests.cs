using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OptimizedCache.Testing;

namespace OptimizedCache.Api.Tests;

/// <summary>The Api as Program.cs builds it: its description lists every endpoint it maps, in both roles.</summary>
public sealed class OpenApiTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("Server")]
    public async Task TheDescriptionListsEveryMappedEndpointWithTheKeySchemeOnAdminRoutes(string? role)
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            if (role is not null)
            {
                web.UseSetting("Origin:Role", role);
            }

            web.UseSetting("Admin:ApiKey", "openapi-test-key");
        });
        using var client = factory.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var mapped = OpenApiCoverage.MappedOperations(factory.Services);
        Assert.NotEmpty(mapped);
        Assert.Equal(mapped, OpenApiCoverage.DescribedOperations(document));
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var admin = path.Name.StartsWith("/admin", StringComparison.Ordinal) || path.Name.StartsWith("/origin/behavior", StringComparison.Ordinal);
                Assert.Equal(admin, operation.Value.TryGetProperty("security", out _));
                Assert.True(operation.Value.GetProperty("responses").TryGetProperty("400", out var problem), $"{operation.Name} {path.Name} lists no 400");
                Assert.True(problem.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{operation.Name} {path.Name}: 400 is not problem details");
            }
        }

        Assert.Equal("X-Api-Key", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("name").GetString());
    }

    [Fact]
    public async Task TheReferencePageIsServedInDevelopmentOnly()
    {
        await using var development = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web.UseEnvironment("Development"));
        await using var production = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web.UseEnvironment("Production"));

        using var page = await development.CreateClient().GetAsync("/scalar");
        using var absent = await production.CreateClient().GetAsync("/scalar");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("openapi/v1.json", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
    }
}
