using System.Buffers;
using System.IO.Compression;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Raw Deflate from the framework (<see cref="DeflateStream"/>): the fast codec when LZ4 is missing.</summary>
internal sealed unsafe class DeflateCodec : ICompressionCodec
{
    private readonly CompressionLevel _level;

    /// <summary>Creates the codec.</summary>
    /// <param name="level">The level; <see cref="CompressionLevel.Fastest"/> by default.</param>
    public DeflateCodec(CompressionLevel level = CompressionLevel.Fastest) => _level = level;

    /// <inheritdoc />
    public CompressionCodecId Id => CompressionCodecId.Deflate;

    /// <inheritdoc />
    public string Name => "deflate";

    /// <inheritdoc />
    public bool IsAvailable => true;

    /// <inheritdoc />
    public string? UnavailableReason => null;

    /// <inheritdoc />
    public int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var sink = new BufferWriterStream(destination);
        using (var deflate = new DeflateStream(sink, _level, leaveOpen: true))
        {
            deflate.Write(source);
        }

        if (sink.BytesWritten == 0)
        {
            // DeflateStream emits nothing when nothing was written; store the empty final block instead so
            // that every stored payload is a complete stream and an empty input is not mistaken for truncation.
            sink.Write([0x03, 0x00]);
        }

        return checked((int)sink.BytesWritten);
    }

    /// <inheritdoc />
    public bool TryDecompress(ReadOnlySpan<byte> source, int uncompressedLength, Span<byte> destination)
    {
        CodecGuards.ThrowIfDestinationTooSmall(uncompressedLength, destination);
        if (source.IsEmpty)
        {
            return false;
        }

        fixed (byte* src = source)
        {
            using var input = new UnmanagedMemoryStream(src, source.Length);
            using var inflate = new DeflateStream(input, CompressionMode.Decompress);
            try
            {
                var target = destination[..uncompressedLength];
                if (inflate.ReadAtLeast(target, uncompressedLength, throwOnEndOfStream: false) != uncompressedLength)
                {
                    return false;
                }

                // The stream must end exactly at the declared length.
                Span<byte> probe = stackalloc byte[1];
                return inflate.Read(probe) == 0;
            }
            catch (InvalidDataException)
            {
                return false;
            }
        }
    }
}
