namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Argument checks the codecs share.</summary>
internal static class CodecGuards
{
    /// <summary>Throws when the declared length is negative or the destination cannot hold it.</summary>
    /// <param name="uncompressedLength">The declared uncompressed length.</param>
    /// <param name="destination">The buffer the codec will write.</param>
    /// <exception cref="ArgumentException">Either value is unusable; the message names it.</exception>
    public static void ThrowIfDestinationTooSmall(int uncompressedLength, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(uncompressedLength);
        if (destination.Length < uncompressedLength)
        {
            throw new ArgumentException(
                $"The destination holds {destination.Length} bytes but the uncompressed length is {uncompressedLength}.",
                nameof(destination));
        }
    }
}
