using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Prometheus;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests.Support;

/// <summary>
/// What one test needs: a leased synthetic target in the class's real Prometheus, the fake admin Api, and a
/// temporary folder for the baseline file.
/// </summary>
public sealed class GuardEnvironment : IAsyncDisposable
{
    /// <summary>The window the tests evaluate over.</summary>
    public const int WindowSeconds = 10;

    private GuardEnvironment(SyntheticApiTarget target, string selector, PrometheusServer prometheus, FakeAdminApi api, string directory)
    {
        Target = target;
        Selector = selector;
        Prometheus = prometheus;
        Api = api;
        Directory = directory;
    }

    /// <summary>The scraped target.</summary>
    public SyntheticApiTarget Target { get; }

    /// <summary>The label matcher naming the target's job.</summary>
    public string Selector { get; }

    /// <summary>Prometheus.</summary>
    public PrometheusServer Prometheus { get; }

    /// <summary>The fake Api.</summary>
    public FakeAdminApi Api { get; }

    /// <summary>A temporary folder.</summary>
    public string Directory { get; }

    /// <summary>Where the baseline goes.</summary>
    public string BaselinePath => Path.Combine(Directory, "baseline.json");

    /// <summary>Leases a target from <paramref name="farm"/> at <paramref name="phase"/> and starts the fake Api there.</summary>
    public static async Task<GuardEnvironment> StartAsync(PrometheusFarm farm, int phase)
    {
        var (target, selector) = farm.Lease();
        target.SetPhase(phase);
        var api = await FakeAdminApi.StartAsync(phase);
        var directory = Path.Combine(Path.GetTempPath(), "oc-mon-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        await target.WaitForScrapesAsync(2);
        return new GuardEnvironment(target, selector, farm.Prometheus, api, directory);
    }

    /// <summary>Healthy phase-2 traffic: 90% hits, a tenth of the bypass path's origin calls, fast cached responses.</summary>
    public void HealthyTraffic(int scale = 1)
    {
        Target.Requests("cached", 900 * scale, 0.002);
        Target.Requests("bypass", 300 * scale, 0.02);
        Target.OriginCalls("cached", 90 * scale);
        Target.OriginCalls("bypass", 300 * scale);
        Target.Lookups(l1Hits: 700 * scale, l2Hits: 110 * scale, misses: 90 * scale);
    }

    /// <summary>Guard options for this target.</summary>
    public GuardOptions Options(int minimumRequests = 200, long? plannedMemoryBytes = null) => new()
    {
        Window = TimeSpan.FromSeconds(WindowSeconds),
        MinimumRequests = minimumRequests,
        Selector = Selector,
        Triggers = { PlannedMemoryBytes = plannedMemoryBytes },
    };

    /// <summary>Reads the window's figures as the guard does.</summary>
    public async Task<Measurements> ReadAsync(GuardOptions? options = null)
    {
        options ??= Options();
        using var http = new HttpClient { BaseAddress = Prometheus.BaseAddress };
        return await Measurements.ReadAsync(new PrometheusClient(http), options, options.Window, DateTimeOffset.UtcNow, default);
    }

    /// <summary>Settings for Monitoring against this environment.</summary>
    public Dictionary<string, string?> Settings(int minimumRequests = 200)
    {
        var settings = MonitoringApp.Settings(Prometheus.BaseAddress, Api.BaseAddress, BaselinePath, WindowSeconds, minimumRequests);
        settings["Monitoring:Guard:Selector"] = Selector;
        return settings;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200);
        }

        return await condition();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
