using System.Buffers;
using System.Collections.Concurrent;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Zstandard compression through the system's <c>libzstd.so.1</c>: the strong codec for large values.</summary>
/// <remarks>
/// Contexts are pooled (at most <see cref="MaxPooledContexts"/> of each kind): <c>ZSTD_compress</c> would
/// allocate and free a context on every call, which costs more than compressing a few kilobytes.
/// </remarks>
internal sealed unsafe class ZstdCodec : ICompressionCodec
{
    private static readonly int MaxPooledContexts = Math.Max(2, Environment.ProcessorCount);

    private readonly int _level;
    private readonly ConcurrentQueue<nint> _compressionContexts = new();
    private readonly ConcurrentQueue<nint> _decompressionContexts = new();

    /// <summary>Probes <c>libzstd.so.1</c>; the codec reports itself unavailable when the library is missing.</summary>
    /// <param name="level">The compression level, 1 (fastest) to 19; 3 is Zstandard's default.</param>
    public ZstdCodec(int level = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 19);
        _level = level;
        IsAvailable = NativeLibraryProbe.TryProbe(NativeZstd.LibraryName, NativeZstd.RequiredExports, out var reason);
        UnavailableReason = reason;
    }

    /// <inheritdoc />
    public CompressionCodecId Id => CompressionCodecId.Zstd;

    /// <inheritdoc />
    public string Name => "zstd";

    /// <inheritdoc />
    public bool IsAvailable { get; }

    /// <inheritdoc />
    public string? UnavailableReason { get; }

    /// <inheritdoc />
    public int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ThrowIfUnavailable();
        var bound = checked((int)NativeZstd.CompressBound((nuint)source.Length));
        var output = destination.GetSpan(bound);
        var context = Rent(_compressionContexts, compression: true);
        nuint written;
        byte placeholder = 0;
        try
        {
            fixed (byte* src = source)
            fixed (byte* dst = output)
            {
                written = NativeZstd.CompressCCtx(context, dst, (nuint)output.Length, src == null ? &placeholder : src, (nuint)source.Length, _level);
            }
        }
        finally
        {
            Return(_compressionContexts, context, compression: true);
        }

        if (NativeZstd.IsError(written) != 0)
        {
            throw new InvalidOperationException($"ZSTD_compressCCtx failed for an input of {source.Length} bytes (code {written}).");
        }

        destination.Advance((int)written);
        return (int)written;
    }

    /// <inheritdoc />
    public bool TryDecompress(ReadOnlySpan<byte> source, int uncompressedLength, Span<byte> destination)
    {
        CodecGuards.ThrowIfDestinationTooSmall(uncompressedLength, destination);
        ThrowIfUnavailable();
        if (source.IsEmpty)
        {
            return false;
        }

        var context = Rent(_decompressionContexts, compression: false);
        try
        {
            byte placeholder = 0;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                var result = NativeZstd.DecompressDCtx(context, uncompressedLength == 0 ? &placeholder : dst, (nuint)uncompressedLength, src, (nuint)source.Length);
                return NativeZstd.IsError(result) == 0 && result == (nuint)uncompressedLength;
            }
        }
        finally
        {
            Return(_decompressionContexts, context, compression: false);
        }
    }

    private static nint Rent(ConcurrentQueue<nint> pool, bool compression)
    {
        if (pool.TryDequeue(out var context))
        {
            return context;
        }

        context = compression ? NativeZstd.CreateCCtx() : NativeZstd.CreateDCtx();
        return context != 0 ? context : throw new InvalidOperationException("Zstandard could not allocate a context.");
    }

    private static void Return(ConcurrentQueue<nint> pool, nint context, bool compression)
    {
        // Count is approximate under races; the pool may briefly hold a context or two more than the cap.
        if (pool.Count < MaxPooledContexts)
        {
            pool.Enqueue(context);
        }
        else if (compression)
        {
            NativeZstd.FreeCCtx(context);
        }
        else
        {
            NativeZstd.FreeDCtx(context);
        }
    }

    private void ThrowIfUnavailable()
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException($"The {Name} codec is unavailable: {UnavailableReason}.");
        }
    }
}
