using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace OptimizedCache.Testing;

/// <summary>Compares a service's mapped endpoints with the operations its API description lists.</summary>
public static partial class OpenApiCoverage
{
    /// <summary>"METHOD /path" for every mapped endpoint meant for the description (not excluded from it, not health checks).</summary>
    public static SortedSet<string> MappedOperations(IServiceProvider services)
    {
        var mapped = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true }
                || endpoint.Metadata.GetMetadata<HttpMethodMetadata>() is not { } methods)
            {
                continue;
            }

            var path = "/" + Constraint().Replace(endpoint.RoutePattern.RawText ?? "", "}").Trim('/');
            foreach (var method in methods.HttpMethods)
            {
                mapped.Add($"{method} {path}");
            }
        }

        return mapped;
    }

    /// <summary>"METHOD /path" for every operation in an OpenAPI document.</summary>
    public static SortedSet<string> DescribedOperations(JsonElement document)
    {
        var described = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                described.Add($"{operation.Name.ToUpperInvariant()} {path.Name.TrimEnd('/') switch { "" => "/", var p => p }}");
            }
        }

        return described;
    }

    [GeneratedRegex(":[^}]*}")]
    private static partial Regex Constraint();
}
