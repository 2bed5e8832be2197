using System.Diagnostics;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The system clock's timestamp (<see cref="Stopwatch.GetTimestamp"/> units) read through the millisecond tick count
/// (<see cref="Environment.TickCount64"/>), for the L1 hit path, which only compares it with an entry's expiry and
/// refresh times. The tick count is the kernel's coarse clock: about 10 ns a read against 30 ns for the precise one
/// on this project's virtual machines, at the price of its resolution (a few milliseconds on Linux, about 16 ms on
/// Windows), so an entry may leave L1 that much before or after its time. Only for <see cref="TimeProvider.System"/>:
/// a test clock is always read itself. Immutable; the cache takes a fresh one now and then
/// (<see cref="OptimizedHybridCache.RunMaintenance"/>) so that the two clocks cannot drift apart over days.
/// </summary>
internal sealed class CoarseClock
{
    private readonly long _baseTimestamp;
    private readonly long _baseTick;
    private readonly long _timestampsPerMillisecond;

    private CoarseClock()
    {
        _timestampsPerMillisecond = Stopwatch.Frequency / 1000;
        _baseTick = Environment.TickCount64;
        _baseTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>A coarse clock for <paramref name="time"/>, or null when it is not the system clock (or its frequency is not a whole number of units per millisecond).</summary>
    public static CoarseClock? For(TimeProvider time) =>
        ReferenceEquals(time, TimeProvider.System) && Stopwatch.Frequency % 1000 == 0 ? new CoarseClock() : null;

    /// <summary>Now, in <see cref="Stopwatch"/> timestamp units, to within the tick count's resolution.</summary>
    public long GetTimestamp() => _baseTimestamp + ((Environment.TickCount64 - _baseTick) * _timestampsPerMillisecond);
}
