using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace OptimizedCache.ServiceDefaults;

/// <summary>
/// A request body that does not bind (malformed JSON, a wrong type, a missing required or unknown field) is a
/// problem-details 400 whose detail says what broke and where, instead of a bare "Bad Request".
/// </summary>
internal static class BadRequestDefaults
{
    public static void Add(IServiceCollection services)
    {
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<ExceptionHandlerOptions>(options =>
            options.StatusCodeSelector ??= error => error is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError);
        services.Configure<ProblemDetailsOptions>(options =>
        {
            var previous = options.CustomizeProblemDetails;
            options.CustomizeProblemDetails = context =>
            {
                previous?.Invoke(context);
                if (context.HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error is BadHttpRequestException bad)
                {
                    context.ProblemDetails.Status = bad.StatusCode;
                    context.ProblemDetails.Title = "Bad request";
                    context.ProblemDetails.Detail = bad.InnerException is JsonException json
                        ? $"The request body is not what this endpoint takes: {json.Message}"
                        : bad.Message;
                }
            };
        });
    }
}
