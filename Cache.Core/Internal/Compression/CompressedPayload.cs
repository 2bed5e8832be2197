namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The result of <see cref="AdaptiveCompressionPolicy.Compress"/>: the bytes to store and the codec to record
/// in the envelope. Holds a pooled buffer when compressed; dispose it once the envelope is written.
/// </summary>
internal ref struct CompressedPayload
{
    private PooledBufferWriter? _buffer;

    /// <summary>Creates a result.</summary>
    /// <param name="codec">The codec of <paramref name="payload"/>.</param>
    /// <param name="payload">The bytes to store.</param>
    /// <param name="uncompressedLength">The original length.</param>
    /// <param name="buffer">The pooled buffer holding <paramref name="payload"/>, if any.</param>
    internal CompressedPayload(CompressionCodecId codec, ReadOnlySpan<byte> payload, int uncompressedLength, PooledBufferWriter? buffer)
    {
        Codec = codec;
        Payload = payload;
        UncompressedLength = uncompressedLength;
        _buffer = buffer;
    }

    /// <summary>The codec to record in the envelope; <see cref="CompressionCodecId.None"/> when stored raw.</summary>
    public CompressionCodecId Codec { get; }

    /// <summary>The bytes to store: the compressed bytes, or the original ones when stored raw.</summary>
    public ReadOnlySpan<byte> Payload { get; private set; }

    /// <summary>The original length, for the envelope's uncompressed-length field.</summary>
    public int UncompressedLength { get; }

    /// <summary>Returns the pooled buffer; <see cref="Payload"/> must not be used afterwards.</summary>
    public void Dispose()
    {
        Payload = default;
        _buffer?.Dispose();
        _buffer = null;
    }
}
