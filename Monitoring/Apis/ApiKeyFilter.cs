using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OptimizedCache.Monitoring.Apis;

/// <summary>
/// Admits a request only with the configured key in <c>X-Api-Key</c>, compared in constant time. The typed key
/// is neither stored nor logged.
/// </summary>
internal sealed class ApiKeyFilter(IOptions<MonitoringOptions> options, ILogger<ApiKeyFilter> logger) : IEndpointFilter
{
    public const string HeaderName = "X-Api-Key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var presented = http.Request.Headers[HeaderName].ToString();
        if (!Matches(presented, options.Value.ApiKey))
        {
            Log.PanelKeyRejected(logger, http.Request.Path);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "API key required",
                detail: $"Send the Api's admin key in the {HeaderName} header.");
        }

        return await next(context);
    }

    /// <summary>Compares fixed-length digests, so neither the content nor the length of the key leaks through timing.</summary>
    internal static bool Matches(string presented, string expected)
    {
        if (string.IsNullOrEmpty(presented) || string.IsNullOrEmpty(expected))
        {
            return false;
        }

        Span<byte> a = stackalloc byte[32];
        Span<byte> b = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }
}
