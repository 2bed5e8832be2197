using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>Puts <see cref="RequestActivityMiddleware"/> first in the pipeline, so it sees the route and final status.</summary>
internal sealed class RequestActivityStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<RequestActivityMiddleware>();
        next(app);
    };
}
