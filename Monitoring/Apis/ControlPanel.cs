using Microsoft.Extensions.FileProviders;

namespace OptimizedCache.Monitoring.Apis;

/// <summary>
/// Serves the control panel (<c>wwwroot/</c>: one HTML page, its script and stylesheet) from resources embedded
/// in this assembly, so the page works wherever the binary runs and needs nothing from the internet.
/// </summary>
public static class ControlPanel
{
    /// <summary>Serves <c>/</c> → <c>index.html</c> and its assets.</summary>
    public static IApplicationBuilder UseControlPanel(this IApplicationBuilder app)
    {
        var files = new EmbeddedFileProvider(typeof(ControlPanel).Assembly, "OptimizedCache.Monitoring.wwwroot");
        return app.UseFileServer(new FileServerOptions { FileProvider = files, EnableDefaultFiles = true });
    }
}
