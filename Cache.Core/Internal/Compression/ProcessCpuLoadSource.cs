namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The process's CPU load: CPU time consumed (<see cref="Environment.CpuUsage"/>) over wall time elapsed
/// (<see cref="TimeProvider"/>) times the processor count, re-sampled at most once per interval; between
/// samples the last value is returned, so a call costs a timestamp read.
/// </summary>
internal sealed class ProcessCpuLoadSource : ICpuLoadSource
{
    private readonly TimeProvider _timeProvider;
    private readonly Func<TimeSpan> _processorTime;
    private readonly int _processorCount;
    private readonly long _intervalTicks;
    private readonly Lock _sampleLock = new();
    private long _lastTimestamp;
    private TimeSpan _lastProcessorTime;
    private double _load;

    /// <summary>The default time a sample stands.</summary>
    public static readonly TimeSpan DefaultSampleInterval = TimeSpan.FromSeconds(1);

    /// <summary>Creates a source over the current process, re-sampled at most once per <see cref="DefaultSampleInterval"/>.</summary>
    /// <param name="timeProvider">The clock.</param>
    public ProcessCpuLoadSource(TimeProvider timeProvider)
        : this(timeProvider, DefaultSampleInterval)
    {
    }

    /// <summary>Creates a source over the current process.</summary>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="sampleInterval">How long a sample stands; positive.</param>
    public ProcessCpuLoadSource(TimeProvider timeProvider, TimeSpan sampleInterval)
        : this(timeProvider, sampleInterval, static () => Environment.CpuUsage.TotalTime, Environment.ProcessorCount)
    {
    }

    /// <summary>Creates a source over any processor-time reading (the seam tests use).</summary>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="sampleInterval">How long a sample stands; positive.</param>
    /// <param name="processorTime">Returns the CPU time consumed so far.</param>
    /// <param name="processorCount">The processors the CPU time is shared over; positive.</param>
    public ProcessCpuLoadSource(TimeProvider timeProvider, TimeSpan sampleInterval, Func<TimeSpan> processorTime, int processorCount)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(processorTime);
        if (sampleInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The sample interval must be positive; it is {sampleInterval}.", nameof(sampleInterval));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(processorCount, 1);
        _timeProvider = timeProvider;
        _processorTime = processorTime;
        _processorCount = processorCount;
        _intervalTicks = (long)(sampleInterval.TotalSeconds * timeProvider.TimestampFrequency);
        _lastTimestamp = timeProvider.GetTimestamp();
        _lastProcessorTime = processorTime();
    }

    /// <inheritdoc />
    public double GetLoad()
    {
        var now = _timeProvider.GetTimestamp();
        if (now - Volatile.Read(ref _lastTimestamp) >= _intervalTicks && _sampleLock.TryEnter())
        {
            try
            {
                var elapsed = _timeProvider.GetElapsedTime(_lastTimestamp, now);
                if (elapsed.Ticks > 0)
                {
                    var cpu = _processorTime();
                    var load = (cpu - _lastProcessorTime).TotalSeconds / (elapsed.TotalSeconds * _processorCount);
                    Volatile.Write(ref _load, Math.Clamp(load, 0.0, 1.0));
                    _lastProcessorTime = cpu;
                    Volatile.Write(ref _lastTimestamp, now);
                }
            }
            finally
            {
                _sampleLock.Exit();
            }
        }

        return Volatile.Read(ref _load);
    }
}
