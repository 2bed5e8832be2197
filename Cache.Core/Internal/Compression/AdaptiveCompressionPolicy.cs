using System.Collections.Concurrent;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Decides per value whether and how to compress: nothing below <see cref="CompressionPolicyOptions.MinimumSizeBytes"/>;
/// the fast codec (LZ4, else Deflate) for mid-size values; the strong codec (Zstandard, else Brotli) for large
/// ones; nothing for data types whose values have not been compressing (re-measured every
/// <see cref="CompressionPolicyOptions.ResampleInterval"/>-th value); and under high CPU load only the cheap codec.
/// Only available codecs are ever chosen.
/// </summary>
/// <remarks>
/// Choices under high CPU load: mid-size values use LZ4 or stay raw; large values use LZ4, else Zstandard
/// (level 3 still runs at hundreds of MB/s), else stay raw. Brotli and Deflate are never chosen then.
/// Per-data-type state is bounded by <see cref="CompressionPolicyOptions.MaxTrackedDataTypes"/>; further types
/// share the <see cref="OtherBucket"/> state. Thread-safe.
/// </remarks>
internal sealed class AdaptiveCompressionPolicy
{
    /// <summary>The name of the state shared by data types beyond the tracked maximum.</summary>
    public const string OtherBucket = "other";

    private readonly CompressionCodecRegistry _registry;
    private readonly ICpuLoadSource _cpuLoad;
    private readonly int _minimumSize;
    private readonly int _largeSize;
    private readonly double _incompressibleRatio;
    private readonly int _minimumSamples;
    private readonly int _resampleInterval;
    private readonly double _smoothing;
    private readonly int _maxTrackedTypes;
    private readonly double _highCpuLoad;
    private readonly ICompressionCodec? _midCodec;
    private readonly ICompressionCodec? _largeCodec;
    private readonly ICompressionCodec? _midCodecUnderLoad;
    private readonly ICompressionCodec? _largeCodecUnderLoad;
    private readonly ConcurrentDictionary<string, TypeState> _states = new(StringComparer.Ordinal);
    private readonly TypeState _other = new();
    private readonly Lock _addLock = new();

    /// <summary>Creates the policy.</summary>
    /// <param name="registry">The codecs; only available ones are chosen.</param>
    /// <param name="options">The settings; validated and copied here.</param>
    /// <param name="cpuLoad">The CPU load reading (a <see cref="ProcessCpuLoadSource"/> in production).</param>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public AdaptiveCompressionPolicy(CompressionCodecRegistry registry, CompressionPolicyOptions options, ICpuLoadSource cpuLoad)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cpuLoad);
        options.Validate();
        _registry = registry;
        _cpuLoad = cpuLoad;
        _minimumSize = options.MinimumSizeBytes;
        _largeSize = options.LargeSizeBytes;
        _incompressibleRatio = options.IncompressibleRatio;
        _minimumSamples = options.MinimumSamples;
        _resampleInterval = options.ResampleInterval;
        _smoothing = options.RatioSmoothing;
        _maxTrackedTypes = options.MaxTrackedDataTypes;
        _highCpuLoad = options.HighCpuLoad;
        _midCodec = FirstAvailable(CompressionCodecId.Lz4, CompressionCodecId.Deflate);
        _largeCodec = FirstAvailable(CompressionCodecId.Zstd, CompressionCodecId.Brotli, CompressionCodecId.Lz4, CompressionCodecId.Deflate);
        _midCodecUnderLoad = FirstAvailable(CompressionCodecId.Lz4);
        _largeCodecUnderLoad = FirstAvailable(CompressionCodecId.Lz4, CompressionCodecId.Zstd);
    }

    /// <summary>How many data types have their own state (at most the configured maximum).</summary>
    public int TrackedDataTypeCount => _states.Count;

    /// <summary>Chooses the codec for a value of <paramref name="dataType"/> and <paramref name="length"/> bytes.</summary>
    /// <param name="dataType">The value's data type.</param>
    /// <param name="length">The serialized value's length.</param>
    /// <returns>The codec to use; <see cref="CompressionCodecId.None"/> to store the value raw.</returns>
    public CompressionCodecId Choose(string dataType, int length)
    {
        ArgumentNullException.ThrowIfNull(dataType);
        if (length < _minimumSize)
        {
            return CompressionCodecId.None;
        }

        var state = GetState(dataType, create: true)!;
        if (state.IsIncompressible(_minimumSamples, _incompressibleRatio)
            && Interlocked.Increment(ref state.SkippedSinceSample) % _resampleInterval != 0)
        {
            return CompressionCodecId.None;
        }

        var underLoad = _cpuLoad.GetLoad() >= _highCpuLoad;
        var codec = length >= _largeSize
            ? (underLoad ? _largeCodecUnderLoad : _largeCodec)
            : (underLoad ? _midCodecUnderLoad : _midCodec);
        return codec?.Id ?? CompressionCodecId.None;
    }

    /// <summary>Feeds back the size a compressed value of <paramref name="dataType"/> achieved.</summary>
    /// <param name="dataType">The value's data type.</param>
    /// <param name="uncompressedLength">The original length.</param>
    /// <param name="compressedLength">The compressed length.</param>
    public void RecordResult(string dataType, int uncompressedLength, int compressedLength)
    {
        ArgumentNullException.ThrowIfNull(dataType);
        if (uncompressedLength <= 0 || compressedLength < 0)
        {
            return;
        }

        GetState(dataType, create: true)!.Add((double)compressedLength / uncompressedLength, _smoothing);
    }

    /// <summary>
    /// Chooses a codec, compresses, records the ratio, and returns what to store: the compressed bytes, or
    /// <paramref name="source"/> itself when no codec was chosen, compressing failed, or the result was not
    /// at least <c>1 − IncompressibleRatio</c> smaller.
    /// </summary>
    /// <param name="dataType">The value's data type.</param>
    /// <param name="source">The serialized value.</param>
    /// <returns>The payload; dispose it after writing the envelope.</returns>
    public CompressedPayload Compress(string dataType, ReadOnlySpan<byte> source)
    {
        var codecId = Choose(dataType, source.Length);
        if (codecId == CompressionCodecId.None || !_registry.TryGet(codecId, out var codec))
        {
            return new CompressedPayload(CompressionCodecId.None, source, source.Length, null);
        }

        var buffer = new PooledBufferWriter(source.Length + (source.Length >> 6) + 64);
        int written;
        try
        {
            written = codec.Compress(source, buffer);
        }
        catch (InvalidOperationException)
        {
            // A codec failure must not fail the cache write: the value is stored raw.
            buffer.Dispose();
            return new CompressedPayload(CompressionCodecId.None, source, source.Length, null);
        }

        RecordResult(dataType, source.Length, written);
        if (written >= source.Length * _incompressibleRatio)
        {
            buffer.Dispose();
            return new CompressedPayload(CompressionCodecId.None, source, source.Length, null);
        }

        return new CompressedPayload(codecId, buffer.WrittenSpan, source.Length, buffer);
    }

    /// <summary>What the policy has learned about <paramref name="dataType"/> (or the bucket it shares).</summary>
    /// <param name="dataType">The data type.</param>
    /// <returns>The smoothed ratio, sample count and verdict; zero samples when nothing was recorded.</returns>
    public CompressionTypeStatistics GetStatistics(string dataType)
    {
        ArgumentNullException.ThrowIfNull(dataType);
        var state = GetState(dataType, create: false);
        if (state is null)
        {
            return new CompressionTypeStatistics(dataType, 0, 0, false);
        }

        lock (state.Sync)
        {
            return new CompressionTypeStatistics(
                ReferenceEquals(state, _other) ? OtherBucket : dataType,
                state.Ratio,
                state.Samples,
                state.IsIncompressible(_minimumSamples, _incompressibleRatio));
        }
    }

    private TypeState? GetState(string dataType, bool create)
    {
        if (_states.TryGetValue(dataType, out var state))
        {
            return state;
        }

        if (!create)
        {
            return _states.Count >= _maxTrackedTypes ? _other : null;
        }

        lock (_addLock)
        {
            if (_states.TryGetValue(dataType, out state))
            {
                return state;
            }

            if (_states.Count >= _maxTrackedTypes)
            {
                return _other;
            }

            state = new TypeState();
            _states[dataType] = state;
            return state;
        }
    }

    private ICompressionCodec? FirstAvailable(params ReadOnlySpan<CompressionCodecId> preference)
    {
        foreach (var id in preference)
        {
            if (_registry.TryGet(id, out var codec))
            {
                return codec;
            }
        }

        return null;
    }

    private sealed class TypeState
    {
        public readonly Lock Sync = new();
        public long SkippedSinceSample;
        public double Ratio;
        public long Samples;

        public bool IsIncompressible(int minimumSamples, double threshold) =>
            Volatile.Read(ref Samples) >= minimumSamples && Volatile.Read(ref Ratio) > threshold;

        public void Add(double ratio, double smoothing)
        {
            lock (Sync)
            {
                Ratio = Samples == 0 ? ratio : Ratio + (smoothing * (ratio - Ratio));
                Samples++;
            }
        }
    }
}
