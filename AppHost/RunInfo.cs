using Aspire.Hosting.ApplicationModel;

namespace OptimizedCache.AppHost;

/// <summary>
/// For scripts that start the AppHost (verification/run-all.sh, the live-system tests): once every resource with an
/// endpoint is ready, <c>urls</c> (one <c>name=url</c> per line) and then <c>ready</c> are written to the run folder.
/// </summary>
internal static class RunInfo
{
    public static void WriteRunInfoWhenReady(this IDistributedApplicationBuilder builder, string runDirectory)
    {
        var waiting = builder.Resources.OfType<IResourceWithEndpoints>().Where(r => r is not ParameterResource).ToList();
        var ready = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in waiting)
        {
            builder.Eventing.Subscribe<ResourceReadyEvent>(resource, async (_, cancellationToken) =>
            {
                lock (ready)
                {
                    if (!ready.Add(resource.Name) || ready.Count < waiting.Count)
                    {
                        return;
                    }
                }

                var lines = waiting.OrderBy(r => r.Name, StringComparer.Ordinal)
                    .Select(r => (r.Name, Endpoint: r.GetEndpoints().FirstOrDefault(e => e.EndpointName is "http" or "tcp")))
                    .Where(r => r.Endpoint is not null)
                    .Select(r => $"{r.Name}={(r.Endpoint!.EndpointName == "http" ? r.Endpoint.Url : $"127.0.0.1:{r.Endpoint.Port}")}");
                await File.WriteAllLinesAsync(Path.Combine(runDirectory, "urls"), lines, cancellationToken);
                await File.WriteAllTextAsync(Path.Combine(runDirectory, "ready"), DateTimeOffset.UtcNow.ToString("O"), cancellationToken);
            });
        }
    }
}
