using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace OptimizedCache.AppHost;

/// <summary>
/// For scripts that start the AppHost (verification/run-all.sh, the live-system tests): each service's console output
/// goes to <c>logs/NAME.log</c> in the run folder (up to <see cref="MaximumLogBytes"/> each), and once every resource
/// with an endpoint is healthy, <c>urls</c> (one <c>name=url</c> per line; Redis as <c>host:port</c>) and then
/// <c>ready</c> are written there.
/// </summary>
internal static class RunInfo
{
    /// <summary>Bytes written to one log file; a soak of hours stops logging there instead of filling the disk.</summary>
    public const long MaximumLogBytes = 64L << 20;

    public static void WriteRunInfoWhenReady(this IDistributedApplicationBuilder builder, string runDirectory)
    {
        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>((created, cancellationToken) =>
        {
            var notifications = created.Services.GetRequiredService<ResourceNotificationService>();
            // with endpoints of their own: Aspire's helper resources (a project's rebuilder) have none
            var resources = created.Model.Resources.OfType<IResourceWithEndpoints>().Where(r => r.Annotations.OfType<EndpointAnnotation>().Any()).ToList();
            var stopping = created.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping;
            var logger = created.Services.GetRequiredService<ResourceLoggerService>();
            Directory.CreateDirectory(Path.Combine(runDirectory, "logs"));
            foreach (var resource in created.Model.Resources.Where(r => r is ProjectResource or ExecutableResource))
            {
                _ = Task.Run(() => CopyLogAsync(logger, resource, Path.Combine(runDirectory, "logs", resource.Name + ".log"), stopping));
            }

            var writing = Task.Run(async () =>
            {
                try
                {
                    foreach (var resource in resources)
                    {
                        await notifications.WaitForResourceHealthyAsync(resource.Name, stopping);
                    }

                    var lines = resources.OrderBy(r => r.Name, StringComparer.Ordinal)
                        .Select(r => (r.Name, Endpoint: r.GetEndpoints().FirstOrDefault(e => e.EndpointName is "http" or "tcp")))
                        .Where(r => r.Endpoint is not null)
                        .Select(r => $"{r.Name}={(r.Endpoint!.EndpointName == "http" ? r.Endpoint.Url : $"127.0.0.1:{r.Endpoint.Port}")}");
                    await File.WriteAllLinesAsync(Path.Combine(runDirectory, "urls"), lines, stopping);
                    await File.WriteAllTextAsync(Path.Combine(runDirectory, "ready"), DateTimeOffset.UtcNow.ToString("O"), stopping);
                }
                catch (OperationCanceledException)
                {
                    // stopped before everything was healthy: no ready file, which is the answer
                }
            });
            return writing.IsFaulted ? writing : Task.CompletedTask; // the run goes on in the background

        });
    }

    private static async Task CopyLogAsync(ResourceLoggerService logger, IResource resource, string path, CancellationToken stopping)
    {
        try
        {
            await using var file = new StreamWriter(path, append: true) { AutoFlush = true };
            long written = 0;
            await foreach (var batch in logger.WatchAsync(resource).WithCancellation(stopping))
            {
                foreach (var line in batch)
                {
                    if (written > MaximumLogBytes)
                    {
                        return;
                    }

                    await file.WriteLineAsync(line.Content);
                    written += line.Content.Length + 1;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the AppHost is stopping
        }
    }
}
