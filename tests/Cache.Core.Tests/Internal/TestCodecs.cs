using System.Buffers;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

/// <summary>Codec instances by name, and a stand-in for a codec whose native library is missing on a machine.</summary>
internal static class TestCodecs
{
    public static ICompressionCodec Create(string name) => name switch
    {
        "lz4" => new Lz4Codec(),
        "zstd" => new ZstdCodec(),
        "brotli" => new BrotliCodec(),
        "deflate" => new DeflateCodec(),
        _ => throw new ArgumentException($"Unknown codec {name}.", nameof(name)),
    };

    /// <summary>Real codecs, except those listed in <paramref name="missing"/>, which are reported unavailable.</summary>
    public static CompressionCodecRegistry Registry(RecordingLogger? logger = null, params CompressionCodecId[] missing) =>
        new(
            new[] { "lz4", "zstd", "brotli", "deflate" }
                .Select(Create)
                .Select(c => missing.Contains(c.Id) ? new MissingCodec(c.Id, c.Name) : c),
            maxPayloadBytes: 2 * 1024 * 1024,
            logger ?? new RecordingLogger());

    /// <summary>What a codec looks like on a machine without its library.</summary>
    public sealed class MissingCodec(CompressionCodecId id, string name) : ICompressionCodec
    {
        public CompressionCodecId Id => id;

        public string Name => name;

        public bool IsAvailable => false;

        public string? UnavailableReason => $"lib{name}-test.so.1 could not be loaded";

        public int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination) =>
            throw new InvalidOperationException("unavailable");

        public bool TryDecompress(ReadOnlySpan<byte> source, int uncompressedLength, Span<byte> destination) =>
            throw new InvalidOperationException("unavailable");
    }
}
