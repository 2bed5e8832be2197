using System.Buffers;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// One compression algorithm. Implementations are stateless from the caller's view and thread-safe.
/// </summary>
internal interface ICompressionCodec
{
    /// <summary>The id stored in entry envelopes.</summary>
    CompressionCodecId Id { get; }

    /// <summary>The lower-case name used in logs and as the <c>codec</c> metric tag (<c>lz4</c>, <c>zstd</c>, <c>brotli</c>, <c>deflate</c>).</summary>
    string Name { get; }

    /// <summary>Whether the codec works on this machine (its native library loaded and exports the needed functions).</summary>
    bool IsAvailable { get; }

    /// <summary>Why the codec is unavailable (e.g. the library that did not load); <see langword="null"/> when available.</summary>
    string? UnavailableReason { get; }

    /// <summary>Compresses <paramref name="source"/> in one shot into <paramref name="destination"/>.</summary>
    /// <param name="source">The bytes to compress; may be empty.</param>
    /// <param name="destination">Receives the compressed bytes.</param>
    /// <returns>The number of compressed bytes written.</returns>
    /// <exception cref="InvalidOperationException">The codec is unavailable or the library reported an error.</exception>
    int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination);

    /// <summary>
    /// Decompresses <paramref name="source"/>, which must expand to exactly <paramref name="uncompressedLength"/>
    /// bytes. Never writes past <c>destination[..uncompressedLength]</c> and never throws on bad input.
    /// </summary>
    /// <param name="source">The compressed bytes, as read from an untrusted store.</param>
    /// <param name="uncompressedLength">The length declared in the envelope; not negative.</param>
    /// <param name="destination">Receives the bytes; at least <paramref name="uncompressedLength"/> long.</param>
    /// <returns>
    /// <see langword="true"/> when the input decoded to exactly <paramref name="uncompressedLength"/> bytes;
    /// <see langword="false"/> when it is corrupt, truncated, or expands to another length.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="uncompressedLength"/>, or the length is negative.</exception>
    /// <exception cref="InvalidOperationException">The codec is unavailable.</exception>
    bool TryDecompress(ReadOnlySpan<byte> source, int uncompressedLength, Span<byte> destination);
}
