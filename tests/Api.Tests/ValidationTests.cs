using System.Net.Http.Json;
using System.Text;

namespace OptimizedCache.Api.Tests;

public sealed class ValidationTests
{
    [Theory]
    [InlineData("/api/products/abc", "id 'abc'")]
    [InlineData("/api/products/0", "id '0'")]
    [InlineData("/api/products/-4", "id '-4'")]
    [InlineData("/api/products?page=0", "page '0'")]
    [InlineData("/api/products?pageSize=1000", "pageSize '1000'")]
    [InlineData("/api/products?page=x", "page 'x'")]
    [InlineData("/api/customers/9x/orders", "id '9x'")]
    [InlineData("/api/inventory/1.5", "productId '1.5'")]
    [InlineData("/api/logs?count=999", "count '999'")]
    public async Task BadIdsAndPagingAre400ProblemsNamingTheValue(string path, string named)
    {
        await using var api = await ApiHost.StartAsync();
        using var response = await api.Client.GetAsync(path);
        var problem = await response.AssertProblemAsync(400);
        Assert.Contains(named, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotEqual("(none)", response.CacheHeader());
    }

    [Theory]
    [InlineData("/api/products/19999")]
    [InlineData("/api/collections/999")]
    [InlineData("/api/customers/501")]
    [InlineData("/api/orders/3")]
    [InlineData("/api/inventory/2001")]
    public async Task UnknownIdsAre404Problems(string path)
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        using var response = await api.Client.GetAsync(path);
        await response.AssertProblemAsync(404);
    }

    [Theory]
    [InlineData("PUT", "/api/products/1", "{}")]
    [InlineData("PUT", "/api/products/1", "{\"title\":\"\"}")]
    [InlineData("PUT", "/api/products/1", "{\"price\":-3}")]
    [InlineData("PUT", "/api/products/1", "{\"title\":")]
    [InlineData("POST", "/api/inventory/1/adjust", "{\"delta\":0}")]
    [InlineData("POST", "/api/inventory/1/adjust", "{\"delta\":\"many\"}")]
    [InlineData("POST", "/api/orders", "{\"customerId\":1,\"lines\":[]}")]
    [InlineData("POST", "/api/orders", "{\"customerId\":1,\"lines\":[{\"productId\":1,\"quantity\":0}]}")]
    [InlineData("POST", "/api/orders", "{\"customerId\":1,\"lines\":[{\"productId\":99999,\"quantity\":1}]}")]
    [InlineData("POST", "/api/orders", "{\"customerId\":99999,\"lines\":[{\"productId\":1,\"quantity\":1}]}")]
    public async Task BadBodiesAre400Problems(string method, string path, string body)
    {
        await using var api = await ApiHost.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        using var response = await api.Client.SendAsync(request);
        await response.AssertProblemAsync(400);
    }

    [Fact]
    public async Task TakingMoreStockThanThereIsIs409()
    {
        await using var api = await ApiHost.StartAsync();
        using var response = await api.Client.PostAsJsonAsync("/api/inventory/1/adjust", new { delta = -1_000_000 });
        await response.AssertProblemAsync(409);
    }
}
