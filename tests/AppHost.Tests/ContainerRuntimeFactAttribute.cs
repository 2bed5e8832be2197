using System.ComponentModel;
using System.Diagnostics;

namespace OptimizedCache.AppHost.Tests;

/// <summary>
/// A fact that needs a container runtime (the AppHost's containers mode). Where neither Docker nor Podman answers
/// <c>info</c>, the test is skipped and the skip reason says so. xUnit 2 has no dynamic skip, so the attribute
/// decides when it is constructed, at discovery.
/// </summary>
public sealed class ContainerRuntimeFactAttribute : FactAttribute
{
    /// <summary>Skips the test when no container runtime is available.</summary>
    public ContainerRuntimeFactAttribute()
    {
        if (ContainerRuntime.UnavailableReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Probes once per test run whether a container runtime answers.</summary>
internal static class ContainerRuntime
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(20);
    private static readonly Lazy<string?> Probe = new(FindUnavailableReason);

    /// <summary>Null when a runtime answered; otherwise why the Aspire tests cannot run here.</summary>
    public static string? UnavailableReason => Probe.Value;

    private static string? FindUnavailableReason()
    {
        // Aspire honours ASPIRE_CONTAINER_RUNTIME; without it, it uses Docker or Podman, whichever runs.
        var configured = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME");
        string[] candidates = string.IsNullOrWhiteSpace(configured) ? ["docker", "podman"] : [configured];
        var findings = candidates.Select(runtime => (runtime, problem: Ask(runtime))).ToList();
        if (findings.Any(f => f.problem is null))
        {
            return null;
        }

        return "no container runtime available for the Aspire AppHost tests ("
            + string.Join("; ", findings.Select(f => $"{f.runtime} info: {f.problem}"))
            + "); install and start Docker or Podman to run them";
    }

    private static string? Ask(string runtime)
    {
        var start = new ProcessStartInfo(runtime, "info")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return "could not be started";
            }

            // Drain both pipes so a chatty `info` cannot block on a full buffer.
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
            return "not installed";
        }
    }
}
