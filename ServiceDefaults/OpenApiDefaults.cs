using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace OptimizedCache.ServiceDefaults;

/// <summary>Marks endpoints that need the admin key (header <c>X-Api-Key</c>), so the API description says so.</summary>
public sealed class ApiKeyRequiredMetadata
{
    /// <summary>The one instance.</summary>
    public static ApiKeyRequiredMetadata Instance { get; } = new();
}

/// <summary>
/// The API description every service publishes: <c>/openapi/v1.json</c> (every mapped endpoint with its parameters,
/// responses and, for admin endpoints, the API-key scheme) and a Scalar reference page at <c>/scalar</c> in
/// Development, elsewhere only with <c>ServiceDefaults:ApiReference=true</c>.
/// </summary>
public static class OpenApiDefaults
{
    /// <summary>The description's path.</summary>
    public const string DocumentPath = "/openapi/v1.json";

    /// <summary>The reference page's path.</summary>
    public const string ReferencePath = "/scalar";

    /// <summary>The security scheme's name in the description.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>Says in the description that the group's endpoints need the admin key (and may answer 401 or 503 for it).</summary>
    public static TBuilder RequireApiKeyInDescription<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ApiKeyRequiredMetadata.Instance);

    internal static void AddDefaultOpenApi(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(ApiKeyRequiredMetadata)))
        {
            return; // added already: the transformers must not run twice
        }

        services.AddSingleton(ApiKeyRequiredMetadata.Instance);
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = "X-Api-Key",
                    Description = "The admin key (Admin:ApiKey); admin endpoints answer 401 without it, 503 where none is configured.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiKeyRequiredMetadata>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] });
                    operation.Responses ??= [];
                    operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No admin key, or a wrong one." });
                    operation.Responses.TryAdd("503", new OpenApiResponse { Description = "No admin key is configured on this service." });
                }

                return Task.CompletedTask;
            });
        });
    }

    internal static void MapDefaultOpenApi(WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        if (app.Environment.IsDevelopment() || app.Configuration.GetValue($"{ServiceDefaultsOptions.SectionName}:ApiReference", false))
        {
            app.MapScalarApiReference(ReferencePath, options => options.WithOpenApiRoutePattern(DocumentPath));
        }
    }
}
