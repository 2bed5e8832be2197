using System.Buffers;
using K4os.Compression.LZ4;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>LZ4 block compression (K4os.Compression.LZ4, managed): the cheapest codec, for mid-size values and high CPU load.</summary>
/// <remarks>
/// The block format with the length kept in the envelope, as the native <c>liblz4</c> writes it, so entries written
/// by either read with the other. The one difference is the empty input: LZ4 writes it as the single byte <c>0x00</c>,
/// which K4os neither writes nor reads, so it is handled here.
/// </remarks>
internal sealed class Lz4Codec : ICompressionCodec
{
    // LZ4's block format limit (LZ4_MAX_INPUT_SIZE).
    private const int MaxInputSize = 0x7E000000;

    /// <inheritdoc />
    public CompressionCodecId Id => CompressionCodecId.Lz4;

    /// <inheritdoc />
    public string Name => "lz4";

    /// <inheritdoc />
    public bool IsAvailable => true;

    /// <inheritdoc />
    public string? UnavailableReason => null;

    /// <inheritdoc />
    public int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (source.Length > MaxInputSize)
        {
            throw new ArgumentException($"LZ4 compresses at most {MaxInputSize} bytes; the input has {source.Length}.", nameof(source));
        }

        if (source.IsEmpty)
        {
            destination.GetSpan(1)[0] = 0;
            destination.Advance(1);
            return 1;
        }

        var output = destination.GetSpan(LZ4Codec.MaximumOutputSize(source.Length));
        var written = LZ4Codec.Encode(source, output, LZ4Level.L00_FAST);
        if (written <= 0)
        {
            throw new InvalidOperationException($"LZ4 failed to compress an input of {source.Length} bytes.");
        }

        destination.Advance(written);
        return written;
    }

    /// <inheritdoc />
    public bool TryDecompress(ReadOnlySpan<byte> source, int uncompressedLength, Span<byte> destination)
    {
        CodecGuards.ThrowIfDestinationTooSmall(uncompressedLength, destination);
        if (uncompressedLength == 0)
        {
            return source is [0];
        }

        return !source.IsEmpty && LZ4Codec.Decode(source, destination[..uncompressedLength]) == uncompressedLength;
    }
}
