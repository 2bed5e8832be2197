namespace OptimizedCache.Cache.Core.Internal;

/// <summary>What the GC reports about memory (a seam so tests can simulate pressure).</summary>
internal readonly record struct MemorySnapshot(long TotalAvailableBytes, long MemoryLoadBytes, long HighMemoryLoadThresholdBytes)
{
    public static MemorySnapshot FromGC()
    {
        var info = GC.GetGCMemoryInfo();
        return new MemorySnapshot(info.TotalAvailableMemoryBytes, info.MemoryLoadBytes, info.HighMemoryLoadThresholdBytes);
    }
}

/// <summary>A source of <see cref="MemorySnapshot"/>s registered in the container by tests to simulate memory pressure.</summary>
internal delegate MemorySnapshot MemorySnapshotSource();

/// <summary>
/// Computes the L1 budget: the fixed size or a fraction of the memory available to the process, shrunk by a factor
/// while the memory load is near the GC's high-load threshold.
/// </summary>
internal sealed class MemoryBudget(OptimizedHybridCacheOptions options, Func<MemorySnapshot> snapshot)
{
    /// <summary>Used when the runtime reports no available memory (never seen in practice, but never trusted blindly).</summary>
    private const long FallbackAvailableBytes = 1L << 30;

    public MemorySnapshot Last { get; private set; }

    public bool UnderPressure { get; private set; }

    public long ConfiguredBytes { get; private set; }

    public long CurrentBytes { get; private set; }

    /// <summary>Re-reads memory; returns true when the budget changed.</summary>
    public bool Update()
    {
        var memory = snapshot();
        Last = memory;
        var available = memory.TotalAvailableBytes > 0 ? memory.TotalAvailableBytes : FallbackAvailableBytes;
        var configured = options.L1MaximumBytes ?? Math.Max(1024 * 1024, (long)(available * options.L1MemoryFraction));
        var pressure = memory.HighMemoryLoadThresholdBytes > 0
            && memory.MemoryLoadBytes >= memory.HighMemoryLoadThresholdBytes * options.MemoryPressureThreshold;
        var current = pressure ? Math.Max(1024, (long)(configured * options.L1PressureShrinkFactor)) : configured;
        var changed = current != CurrentBytes;
        (ConfiguredBytes, CurrentBytes, UnderPressure) = (configured, current, pressure);
        return changed;
    }
}

/// <summary>
/// Calls back after every gen-2 collection, for as long as the callback returns true: an object that resurrects
/// itself in its finalizer (finalizers run after collections that found it unreachable; once promoted, that is gen 2).
/// </summary>
internal sealed class Gen2GcCallback
{
    private readonly Func<bool> _callback;

    private Gen2GcCallback(Func<bool> callback) => _callback = callback;

    ~Gen2GcCallback()
    {
        bool again;
        try
        {
            again = _callback();
        }
        catch
        {
            again = false; // never let an exception escape a finalizer
        }

        if (again && !Environment.HasShutdownStarted)
        {
            GC.ReRegisterForFinalize(this);
        }
    }

    public static void Register(Func<bool> callback) => _ = new Gen2GcCallback(callback);
}
