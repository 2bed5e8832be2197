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

/// <summary>Asks once per test run, as the AppHost's <c>auto</c> mode does, whether a container runtime answers.</summary>
internal static class ContainerRuntime
{
    private static readonly Lazy<string?> Probe = new(() => HostingMode.Resolve("auto") is { Containers: false } mode
        ? $"{mode.Reason}; the containers mode needs Docker or Podman running"
        : null);

    /// <summary>Null when a runtime answered; otherwise why the containers-mode tests cannot run here.</summary>
    public static string? UnavailableReason => Probe.Value;
}
