namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The metadata written in front of every L2 payload (the seed's <c>CacheValue</c>): which codec compressed the
/// payload, the entry's data type, when it was created, when it expires, how long the payload is once
/// decompressed, and the entry's tags (checked at read against tag invalidation times).
/// </summary>
/// <param name="Codec">The codec that compressed the payload; <see cref="CompressionCodecId.None"/> when stored raw.</param>
/// <param name="DataType">The entry's data type (e.g. <c>product</c>); at most <see cref="CacheValue.MaxDataTypeBytes"/> UTF-8 bytes, may be empty.</param>
/// <param name="CreatedAtUnixMilliseconds">When the value was produced, in Unix milliseconds (UTC); not negative.</param>
/// <param name="ExpiresAtUnixMilliseconds">The absolute expiry in Unix milliseconds (UTC); not earlier than the creation time.</param>
/// <param name="UncompressedLength">The payload's length after decompression; equals the stored length for <see cref="CompressionCodecId.None"/>.</param>
/// <param name="Tags">The entry's tags: at most <see cref="CacheValue.MaxTagCount"/>, each non-empty and at most <see cref="CacheValue.MaxTagBytes"/> UTF-8 bytes.</param>
internal readonly record struct CacheEnvelopeHeader(
    CompressionCodecId Codec,
    string DataType,
    long CreatedAtUnixMilliseconds,
    long ExpiresAtUnixMilliseconds,
    int UncompressedLength,
    IReadOnlyList<string> Tags)
{
    /// <summary>Whether the entry has expired at <paramref name="nowUnixMilliseconds"/>.</summary>
    /// <param name="nowUnixMilliseconds">The current time in Unix milliseconds, from the cache's <see cref="TimeProvider"/>.</param>
    /// <returns><see langword="true"/> once the absolute expiry has been reached.</returns>
    public bool IsExpiredAt(long nowUnixMilliseconds) => nowUnixMilliseconds >= ExpiresAtUnixMilliseconds;
}
