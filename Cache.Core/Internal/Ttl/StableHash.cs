using System.Buffers;
using System.Text;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// A hash of a cache key that is the same on every replica, process and run (FNV-1a, 64 bits, over the key's
/// UTF-8 bytes). <see cref="string.GetHashCode()"/> is randomized per process, so TTL jitter derived from it
/// would differ between replicas and the same key would expire at different times on each.
/// </summary>
internal static class StableHash
{
    private const ulong OffsetBasis = 0xCBF29CE484222325;
    private const ulong Prime = 0x00000100000001B3;

    /// <summary>Hashes <paramref name="key"/>'s UTF-8 encoding with FNV-1a 64.</summary>
    /// <param name="key">The key; any length. Lone surrogates are hashed as U+FFFD, as UTF-8 encoding writes them.</param>
    /// <returns>The 64-bit FNV-1a hash; <c>0xCBF29CE484222325</c> for the empty string.</returns>
    public static ulong Fnv1a64(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        const int StackLimit = 512;
        var maxBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        Span<byte> buffer = maxBytes <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var written = Encoding.UTF8.GetBytes(key, buffer);
            return Fnv1a64(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Continues an FNV-1a 64 hash over <paramref name="bytes"/>.</summary>
    /// <param name="bytes">The bytes to fold in.</param>
    /// <param name="hash">The running hash; start from the offset basis (the hash of nothing).</param>
    /// <returns>The updated hash.</returns>
    public static ulong Fnv1a64(ReadOnlySpan<byte> bytes, ulong hash = OffsetBasis)
    {
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= Prime;
        }

        return hash;
    }

    /// <summary>
    /// Scrambles a hash so that all its bits depend on all input bits (the SplitMix64 finalizer); used to
    /// derive independent row indexes for the frequency sketch from one key hash.
    /// </summary>
    /// <param name="value">The value to mix.</param>
    /// <returns>The mixed value.</returns>
    public static ulong Mix(ulong value)
    {
        value ^= value >> 30;
        value *= 0xBF58476D1CE4E5B9;
        value ^= value >> 27;
        value *= 0x94D049BB133111EB;
        value ^= value >> 31;
        return value;
    }
}
