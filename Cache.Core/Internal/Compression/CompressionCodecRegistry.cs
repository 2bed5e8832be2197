using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The codecs this process knows, which of them work here, and bounded decompression by codec id.
/// Built once at start-up; logs each codec that is unavailable.
/// </summary>
internal sealed class CompressionCodecRegistry
{
    private readonly ICompressionCodec?[] _byId = new ICompressionCodec?[256];

    /// <summary>Registers <paramref name="codecs"/> and logs the unavailable ones.</summary>
    /// <param name="codecs">One codec per id (not <see cref="CompressionCodecId.None"/>).</param>
    /// <param name="maxPayloadBytes">The largest uncompressed payload <see cref="Decompress"/> accepts (the cache's maximum payload size).</param>
    /// <param name="logger">Receives the start-up report.</param>
    /// <exception cref="ArgumentException">Two codecs share an id, a codec claims <see cref="CompressionCodecId.None"/>, or the maximum is not positive.</exception>
    public CompressionCodecRegistry(IEnumerable<ICompressionCodec> codecs, int maxPayloadBytes, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        ArgumentNullException.ThrowIfNull(logger);
        if (maxPayloadBytes <= 0)
        {
            throw new ArgumentException($"maxPayloadBytes must be positive; it is {maxPayloadBytes}.", nameof(maxPayloadBytes));
        }

        MaxPayloadBytes = maxPayloadBytes;
        var all = new List<ICompressionCodec>();
        foreach (var codec in codecs)
        {
            if (codec.Id == CompressionCodecId.None || _byId[(byte)codec.Id] is not null)
            {
                throw new ArgumentException($"Codec '{codec.Name}' has id {codec.Id}, which is reserved or already registered.", nameof(codecs));
            }

            _byId[(byte)codec.Id] = codec;
            all.Add(codec);
            if (!codec.IsAvailable)
            {
                Log.CompressionCodecUnavailable(logger, codec.Name, codec.UnavailableReason ?? "unknown reason");
            }
        }

        All = all;
        Available = [.. all.Where(c => c.IsAvailable)];
        Log.CompressionCodecsAvailable(logger, Available.Count == 0 ? "none" : string.Join(", ", Available.Select(c => c.Name)));
    }

    /// <summary>Every registered codec, available or not.</summary>
    public IReadOnlyList<ICompressionCodec> All { get; }

    /// <summary>The codecs that work on this machine.</summary>
    public IReadOnlyList<ICompressionCodec> Available { get; }

    /// <summary>The largest uncompressed payload <see cref="Decompress"/> accepts.</summary>
    public int MaxPayloadBytes { get; }

    /// <summary>Creates the registry of the four built-in codecs (LZ4, Zstandard, Brotli, Deflate).</summary>
    /// <param name="maxPayloadBytes">The largest uncompressed payload to accept.</param>
    /// <param name="logger">Receives the start-up report.</param>
    /// <returns>The registry.</returns>
    public static CompressionCodecRegistry CreateDefault(int maxPayloadBytes, ILogger logger) =>
        new([new Lz4Codec(), new ZstdCodec(), new BrotliCodec(), new DeflateCodec()], maxPayloadBytes, logger);

    /// <summary>Whether <paramref name="id"/> can be used here (<see cref="CompressionCodecId.None"/> always can).</summary>
    /// <param name="id">The codec id.</param>
    /// <returns><see langword="true"/> when values can be written and read with it.</returns>
    public bool IsAvailable(CompressionCodecId id) => id == CompressionCodecId.None || _byId[(byte)id] is { IsAvailable: true };

    /// <summary>Gets an available codec by id.</summary>
    /// <param name="id">The codec id.</param>
    /// <param name="codec">The codec when it is registered and available.</param>
    /// <returns><see langword="true"/> when <paramref name="codec"/> can be used.</returns>
    public bool TryGet(CompressionCodecId id, [NotNullWhen(true)] out ICompressionCodec? codec)
    {
        codec = _byId[(byte)id];
        if (codec is { IsAvailable: true })
        {
            return true;
        }

        codec = null;
        return false;
    }

    /// <summary>
    /// Decompresses a stored payload into <paramref name="destination"/>, bounded by the declared length and
    /// <see cref="MaxPayloadBytes"/>. Never throws on bad input; the destination is advanced only on success.
    /// </summary>
    /// <param name="codec">The codec id from the envelope.</param>
    /// <param name="source">The stored payload.</param>
    /// <param name="uncompressedLength">The uncompressed length from the envelope.</param>
    /// <param name="destination">Receives exactly <paramref name="uncompressedLength"/> bytes on success.</param>
    /// <returns>Whether the payload was restored, and if not, why.</returns>
    public DecompressionStatus Decompress(CompressionCodecId codec, ReadOnlySpan<byte> source, int uncompressedLength, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (uncompressedLength < 0)
        {
            return DecompressionStatus.Corrupt;
        }

        if (uncompressedLength > MaxPayloadBytes)
        {
            return DecompressionStatus.TooLarge;
        }

        if (codec == CompressionCodecId.None)
        {
            if (source.Length != uncompressedLength)
            {
                return DecompressionStatus.Corrupt;
            }

            destination.Write(source);
            return DecompressionStatus.Ok;
        }

        if (!TryGet(codec, out var implementation))
        {
            return DecompressionStatus.CodecUnavailable;
        }

        var span = destination.GetSpan(Math.Max(1, uncompressedLength));
        if (!implementation.TryDecompress(source, uncompressedLength, span))
        {
            return DecompressionStatus.Corrupt;
        }

        destination.Advance(uncompressedLength);
        return DecompressionStatus.Ok;
    }
}
