using System.Net.Http.Json;
using System.Text.Json;

namespace OptimizedCache.Api.Tests;

internal static class Responses
{
    public static string CacheHeader(this HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Cache", out var values) ? string.Join(",", values) : "(none)";

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>Asserts an RFC 9457 problem document with the given status.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
