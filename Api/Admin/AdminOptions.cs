using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OptimizedCache.Api.Admin;

/// <summary>Admin API settings, bound from <c>Admin</c>.</summary>
public sealed class AdminOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Admin";

    /// <summary>
    /// The key callers send in <c>X-Api-Key</c> (from a secret or the environment, never from the repository).
    /// Without one the admin API refuses every call.
    /// </summary>
    /// <value>Default none: admin disabled.</value>
    public string? ApiKey { get; set; }
}

/// <summary>
/// Guards <c>/admin</c>: 401 problem details without the right <c>X-Api-Key</c>, 503 when no key is
/// configured (the admin API is never open). Keys are compared as SHA-256 digests with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>, so neither content nor length leaks through timing.
/// </summary>
internal sealed class ApiKeyFilter(IOptions<AdminOptions> options, ILogger<ApiKeyFilter> logger) : IEndpointFilter
{
    private readonly byte[]? _expected = string.IsNullOrEmpty(options.Value.ApiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.ApiKey));

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (_expected is null)
        {
            return ValueTask.FromResult<object?>(TypedResults.Problem(
                "The admin API is disabled because Admin:ApiKey is not configured.", statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Admin API disabled"));
        }

        var presented = context.HttpContext.Request.Headers["X-Api-Key"].ToString();
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), digest);
        if (presented.Length == 0 || !CryptographicOperations.FixedTimeEquals(digest, _expected))
        {
            Log.AdminRejected(logger, context.HttpContext.Request.Path);
            context.HttpContext.Response.Headers.WWWAuthenticate = "ApiKey header=\"X-Api-Key\"";
            return ValueTask.FromResult<object?>(TypedResults.Problem(
                "Send the admin API key in the X-Api-Key header.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized"));
        }

        return next(context);
    }
}

/// <summary>Warns at start when the admin API has no key.</summary>
internal sealed class AdminKeyCheck(IOptions<AdminOptions> options, ILogger<AdminKeyCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(options.Value.ApiKey))
        {
            Log.AdminDisabled(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
