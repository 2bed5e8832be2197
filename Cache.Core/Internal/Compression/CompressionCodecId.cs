namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Identifies the codec a payload was compressed with. The value is stored as one byte in every entry's
/// envelope, so existing values must never be renumbered; new codecs take new numbers.
/// </summary>
internal enum CompressionCodecId : byte
{
    /// <summary>The payload is stored as it is.</summary>
    None = 0,

    /// <summary>LZ4 block format (the length in the envelope; empty input is the byte 0x00): the cheapest codec, for mid-size values.</summary>
    Lz4 = 1,

    /// <summary>Zstandard frame format: a strong codec for large values.</summary>
    Zstd = 2,

    /// <summary>Brotli (framework): the strong codec when Zstandard is missing.</summary>
    Brotli = 3,

    /// <summary>Raw Deflate (framework): the fast codec when LZ4 is missing.</summary>
    Deflate = 4,
}
