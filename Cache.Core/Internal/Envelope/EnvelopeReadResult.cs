namespace OptimizedCache.Cache.Core.Internal;

/// <summary>The outcome of <see cref="CacheValue.TryRead(ReadOnlySpan{byte}, out CacheEnvelopeHeader, out Range, string)"/>.</summary>
/// <remarks>Every value other than <see cref="Ok"/> is a cache miss for the caller, counted by its reason.</remarks>
internal enum EnvelopeReadResult
{
    /// <summary>The envelope was well formed; the header and payload are valid.</summary>
    Ok = 0,

    /// <summary>The magic matched but the format version is one this build cannot read (written by a newer replica).</summary>
    UnknownVersion = 1,

    /// <summary>The header names a codec id this build does not know.</summary>
    UnknownCodec = 2,

    /// <summary>The bytes are not an envelope, are truncated, or violate a bound or invariant of the format.</summary>
    Corrupt = 3,
}
