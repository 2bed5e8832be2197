using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// ASP.NET Core starts a server activity for each request but, without OpenTelemetry's instrumentation
/// package, names it <c>Microsoft.AspNetCore.Hosting.HttpRequestIn</c> and tags nothing. This fills in
/// what the HTTP semantic conventions ask for (<c>GET /api/products/{id}</c>, method, route, status,
/// error) and keeps probe and scrape requests out of the traces, as Aspire's defaults do.
/// The query string is left out: it can carry personal data.
/// </summary>
internal sealed class RequestActivityMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var activity = context.Features.Get<IHttpActivityFeature>()?.Activity;
        if (activity is null || !activity.IsAllDataRequested)
        {
            await next(context);
            return;
        }

        if (IsProbe(context.Request.Path))
        {
            activity.IsAllDataRequested = false;
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            await next(context);
            return;
        }

        Exception? failure = null;
        try
        {
            await next(context);
        }
        catch (Exception exception)
        {
            failure = exception;
            throw;
        }
        finally
        {
            Describe(activity, context, failure);
        }
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments(Microsoft.Extensions.Hosting.ServiceDefaultsExtensions.HealthEndpointPath)
        || path.StartsWithSegments(Microsoft.Extensions.Hosting.ServiceDefaultsExtensions.AliveEndpointPath)
        || path.StartsWithSegments(Microsoft.Extensions.Hosting.ServiceDefaultsExtensions.MetricsEndpointPath);

    private static void Describe(Activity activity, HttpContext context, Exception? failure)
    {
        var request = context.Request;
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;

        // An exception that escapes the pipeline becomes a 500 after this middleware returns.
        var status = failure is null ? context.Response.StatusCode : StatusCodes.Status500InternalServerError;
        activity.DisplayName = route is null ? request.Method : $"{request.Method} {route}";
        activity.SetTag("http.request.method", request.Method);
        activity.SetTag("url.scheme", request.Scheme);
        activity.SetTag("url.path", request.Path.Value);
        activity.SetTag("server.address", request.Host.Host);
        if (request.Host.Port is { } port)
        {
            activity.SetTag("server.port", port);
        }

        activity.SetTag("network.protocol.version", request.Protocol switch
        {
            "HTTP/1.1" => "1.1",
            "HTTP/2" => "2",
            "HTTP/3" => "3",
            "HTTP/1.0" => "1.0",
            var other => other,
        });
        if (route is not null)
        {
            activity.SetTag("http.route", route);
        }

        activity.SetTag("http.response.status_code", status);
        if (status >= StatusCodes.Status500InternalServerError)
        {
            activity.SetTag("error.type", failure?.GetType().FullName ?? status.ToString(CultureInfo.InvariantCulture));
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }
}
