namespace OptimizedCache.Monitoring.Tests;

/// <summary>Locates the repository's checked-in monitoring files from the test output folder.</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The repository root (the folder holding <c>OptimizedCache.sln</c>).</summary>
    public static string Root => s_root.Value;

    /// <summary><c>Monitoring/prometheus</c>.</summary>
    public static string Prometheus => Path.Combine(Root, "Monitoring", "prometheus");

    /// <summary><c>grafana</c>.</summary>
    public static string Grafana => Path.Combine(Root, "grafana");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OptimizedCache.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No OptimizedCache.sln above {AppContext.BaseDirectory}.");
    }
}
