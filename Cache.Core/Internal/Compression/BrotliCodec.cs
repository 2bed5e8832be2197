using System.Buffers;
using System.IO.Compression;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Brotli from the framework (<see cref="BrotliEncoder"/>/<see cref="BrotliDecoder"/>): the strong codec when Zstandard is missing.</summary>
internal sealed class BrotliCodec : ICompressionCodec
{
    private readonly int _quality;
    private readonly int _window;

    /// <summary>Creates the codec.</summary>
    /// <param name="quality">Brotli quality 0–11; low values (the default 1) trade ratio for speed, as a cache write path needs.</param>
    /// <param name="window">The log2 window size, 10–24; 22 by default.</param>
    public BrotliCodec(int quality = 1, int window = 22)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(quality);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 11);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 10);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(window, 24);
        _quality = quality;
        _window = window;
    }

    /// <inheritdoc />
    public CompressionCodecId Id => CompressionCodecId.Brotli;

    /// <inheritdoc />
    public string Name => "brotli";

    /// <inheritdoc />
    public bool IsAvailable => true;

    /// <inheritdoc />
    public string? UnavailableReason => null;

    /// <inheritdoc />
    public int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var output = destination.GetSpan(BrotliEncoder.GetMaxCompressedLength(source.Length));
        if (!BrotliEncoder.TryCompress(source, output, out var written, _quality, _window))
        {
            throw new InvalidOperationException($"Brotli failed to compress an input of {source.Length} bytes.");
        }

        destination.Advance(written);
        return written;
    }

    /// <inheritdoc />
    public bool TryDecompress(ReadOnlySpan<byte> source, int uncompressedLength, Span<byte> destination)
    {
        CodecGuards.ThrowIfDestinationTooSmall(uncompressedLength, destination);

        // A stream that expands past the declared length fails for lack of room instead of writing on.
        return BrotliDecoder.TryDecompress(source, destination[..uncompressedLength], out var written)
            && written == uncompressedLength;
    }
}
