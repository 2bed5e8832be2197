using System.ComponentModel;
using System.Diagnostics;

namespace OptimizedCache.AppHost;

/// <summary>How Redis, Prometheus and Grafana run: as containers, or as local executables from PATH.</summary>
internal sealed record HostingMode(bool Containers, string Reason)
{
    /// <summary>The setting that chooses: <c>auto</c> (default), <c>true</c> or <c>false</c>.</summary>
    public const string SettingName = "AppHost:Containers";

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The executables this mode needs, with the Debian package that brings each.</summary>
    public static readonly IReadOnlyList<(string Binary, string Package)> RequiredExecutables =
        [("redis-server", "redis-server"), ("prometheus", "prometheus")];

    /// <summary>Reads the setting; <c>auto</c> asks the container runtime (Docker, or Podman) whether it answers.</summary>
    /// <exception cref="ArgumentException">The setting is neither auto, true nor false; the message names the value.</exception>
    public static HostingMode Resolve(string? setting, Func<string?>? probe = null)
    {
        switch (setting?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto":
                var unavailable = (probe ?? ProbeContainerRuntime)();
                return unavailable is null
                    ? new HostingMode(true, "a container runtime answered")
                    : new HostingMode(false, unavailable);
            case "true":
                return new HostingMode(true, $"{SettingName}=true");
            case "false":
                return new HostingMode(false, $"{SettingName}=false");
            default:
                throw new ArgumentException($"{SettingName} is '{setting}'; use auto, true or false.", nameof(setting));
        }
    }

    /// <summary>The required executables not found on PATH, each with the package that brings it.</summary>
    public static IReadOnlyList<string> MissingExecutables(Func<string, string?>? find = null) =>
        [.. RequiredExecutables
            .Where(required => (find ?? FindOnPath)(required.Binary) is null)
            .Select(required => $"{required.Binary} (Debian/Ubuntu package '{required.Package}')")];

    /// <summary>The full path of an executable found on PATH, or null.</summary>
    public static string? FindOnPath(string binary)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, binary);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Null when Docker or Podman (or ASPIRE_CONTAINER_RUNTIME) answers <c>info</c>; otherwise why not.</summary>
    private static string? ProbeContainerRuntime()
    {
        var configured = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME");
        string[] runtimes = string.IsNullOrWhiteSpace(configured) ? ["docker", "podman"] : [configured];
        var problems = new List<string>();
        foreach (var runtime in runtimes)
        {
            var problem = Ask(runtime);
            if (problem is null)
            {
                return null;
            }

            problems.Add($"{runtime} info: {problem}");
        }

        return "no container runtime answered (" + string.Join("; ", problems) + ")";
    }

    private static string? Ask(string runtime)
    {
        if (FindOnPath(runtime) is null)
        {
            return "not installed";
        }

        var start = new ProcessStartInfo(runtime, "info") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return "could not be started";
            }

            // drain both pipes so a chatty `info` cannot block on a full buffer
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(ProbeTimeout))
            {
                process.Kill(entireProcessTree: true);
                return $"no answer within {ProbeTimeout.TotalSeconds:0} s";
            }

            Task.WaitAll(output, error);
            return process.ExitCode == 0 ? null : $"exit code {process.ExitCode}";
        }
        catch (Win32Exception)
        {
            return "could not be started";
        }
    }
}
