using System.Buffers;
using System.Collections.Concurrent;
using ZstdSharp;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Zstandard frames (ZstdSharp, managed): the strong codec for large values.</summary>
/// <remarks>
/// Compressors and decompressors are pooled (at most <see cref="MaxPooled"/> of each): each holds a context whose
/// creation costs more than compressing a few kilobytes, and none may be used by two threads at once.
/// </remarks>
internal sealed class ZstdCodec : ICompressionCodec, IDisposable
{
    private static readonly int MaxPooled = Math.Max(2, Environment.ProcessorCount);

    private readonly int _level;
    private readonly ConcurrentQueue<Compressor> _compressors = new();
    private readonly ConcurrentQueue<Decompressor> _decompressors = new();

    /// <param name="level">The compression level, 1 (fastest) to 19; 3 is Zstandard's default.</param>
    public ZstdCodec(int level = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 19);
        _level = level;
    }

    /// <inheritdoc />
    public CompressionCodecId Id => CompressionCodecId.Zstd;

    /// <inheritdoc />
    public string Name => "zstd";

    /// <inheritdoc />
    public bool IsAvailable => true;

    /// <inheritdoc />
    public string? UnavailableReason => null;

    /// <inheritdoc />
    public int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var output = destination.GetSpan(Compressor.GetCompressBound(source.Length));
        var compressor = _compressors.TryDequeue(out var pooled) ? pooled : new Compressor(_level);
        int written;
        try
        {
            written = compressor.Wrap(source, output);
        }
        finally
        {
            Return(_compressors, compressor);
        }

        destination.Advance(written);
        return written;
    }

    /// <inheritdoc />
    public bool TryDecompress(ReadOnlySpan<byte> source, int uncompressedLength, Span<byte> destination)
    {
        CodecGuards.ThrowIfDestinationTooSmall(uncompressedLength, destination);
        if (source.IsEmpty)
        {
            return false;
        }

        var decompressor = _decompressors.TryDequeue(out var pooled) ? pooled : new Decompressor();
        try
        {
            return decompressor.TryUnwrap(source, destination[..uncompressedLength], out var written) && written == uncompressedLength;
        }
        catch (ZstdException)
        {
            return false; // corrupt or truncated: a miss for the caller, never an exception
        }
        finally
        {
            Return(_decompressors, decompressor);
        }
    }

    public void Dispose()
    {
        while (_compressors.TryDequeue(out var compressor))
        {
            compressor.Dispose();
        }

        while (_decompressors.TryDequeue(out var decompressor))
        {
            decompressor.Dispose();
        }
    }

    private static void Return<T>(ConcurrentQueue<T> pool, T item)
        where T : IDisposable
    {
        // Count is approximate under races; the pool may briefly hold one or two more than the cap
        if (pool.Count < MaxPooled)
        {
            pool.Enqueue(item);
        }
        else
        {
            item.Dispose();
        }
    }
}
