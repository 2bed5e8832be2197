using System.Buffers;
using System.Runtime.InteropServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>LZ4 block compression through the system's <c>liblz4.so.1</c>: the cheapest codec, for mid-size values and high CPU load.</summary>
internal sealed unsafe class Lz4Codec : ICompressionCodec
{
    // LZ4's block format limit (LZ4_MAX_INPUT_SIZE).
    private const int MaxInputSize = 0x7E000000;

    /// <summary>Probes <c>liblz4.so.1</c>; the codec reports itself unavailable when the library is missing.</summary>
    public Lz4Codec()
    {
        IsAvailable = NativeLibraryProbe.TryProbe(NativeLz4.LibraryName, NativeLz4.RequiredExports, out var reason);
        UnavailableReason = reason;
    }

    /// <inheritdoc />
    public CompressionCodecId Id => CompressionCodecId.Lz4;

    /// <inheritdoc />
    public string Name => "lz4";

    /// <inheritdoc />
    public bool IsAvailable { get; }

    /// <inheritdoc />
    public string? UnavailableReason { get; }

    /// <inheritdoc />
    public int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ThrowIfUnavailable();
        if (source.Length > MaxInputSize)
        {
            throw new ArgumentException($"LZ4 compresses at most {MaxInputSize} bytes; the input has {source.Length}.", nameof(source));
        }

        var bound = NativeLz4.CompressBound(source.Length);
        var output = destination.GetSpan(bound);
        int written;
        byte placeholder = 0;
        fixed (byte* src = source)
        fixed (byte* dst = output)
        {
            // An empty span pins to null; LZ4 wants a valid pointer even for zero bytes.
            written = NativeLz4.CompressDefault(src == null ? &placeholder : src, dst, source.Length, output.Length);
        }

        if (written <= 0)
        {
            throw new InvalidOperationException($"LZ4_compress_default failed for an input of {source.Length} bytes.");
        }

        destination.Advance(written);
        return written;
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

        byte placeholder = 0;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            var result = NativeLz4.DecompressSafe(src, uncompressedLength == 0 ? &placeholder : dst, source.Length, uncompressedLength);
            return result == uncompressedLength;
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
