namespace OptimizedCache.Cache.Core.Internal;

/// <summary>The outcome of <see cref="CompressionCodecRegistry.Decompress"/>; anything but <see cref="Ok"/> is a counted miss.</summary>
internal enum DecompressionStatus
{
    /// <summary>The payload was decompressed to exactly its declared length.</summary>
    Ok = 0,

    /// <summary>The entry was written with a codec this machine lacks.</summary>
    CodecUnavailable = 1,

    /// <summary>The declared uncompressed length exceeds the maximum payload size; nothing was allocated.</summary>
    TooLarge = 2,

    /// <summary>The payload did not decode to its declared length.</summary>
    Corrupt = 3,
}
