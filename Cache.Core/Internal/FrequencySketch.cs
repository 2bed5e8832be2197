using System.Numerics;
using System.Runtime.CompilerServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// A count-min sketch of 4-bit counters estimating how often each key was seen recently (TinyLFU). Four counters per
/// key, all in one 64-byte block of eight words (Caffeine's layout): counter <c>i</c> is one of the 16 nibbles of
/// word <c>2i</c> or <c>2i + 1</c> of the key's block, so a count or an estimate touches one cache line instead of
/// four; the estimate is the minimum. After a sample of 10 × capacity increments every counter is halved, so the
/// history ages and old popularity fades.
/// </summary>
/// <remarks>Not thread-safe: used under the store's eviction lock only.</remarks>
internal sealed class FrequencySketch
{
    private const long ResetMask = 0x7777777777777777L;
    private const long OneMask = 0x1111111111111111L;
    private const int MaximumTableLength = 1 << 24; // 128 MiB of counters at most: the sketch is bounded
    
    private long[] _table = [];
    private int _blockMask;
    private int _sampleSize;
    private int _size;

    public FrequencySketch(long expectedEntries) => EnsureCapacity(expectedEntries);

    /// <summary>Number of increments since the last halving (for tests).</summary>
    public int SampleCount => _size;

    /// <summary>Grows the table so that about <paramref name="expectedEntries"/> keys can be told apart.</summary>
    public void EnsureCapacity(long expectedEntries)
    {
        var wanted = (int)Math.Min(Math.Max(expectedEntries * 4, 16), MaximumTableLength);
        var length = (int)BitOperations.RoundUpToPowerOf2((uint)wanted);
        if (length <= _table.Length)
        {
            return;
        }

        _table = new long[length];
        _blockMask = (length >> 3) - 1;
        _sampleSize = (int)Math.Min(10L * length, int.MaxValue);
        _size = 0;
    }

    /// <summary>Estimated recent frequency of the hash, 0 to 15.</summary>
    public int Frequency(int hash)
    {
        var spread = Spread(hash);
        var block = BlockOf(spread);
        var counterHash = (uint)(spread >> 32);
        var frequency = int.MaxValue;
        for (var i = 0; i < 4; i++)
        {
            var h = counterHash >> (i << 3);
            var count = (int)((ulong)_table[block + WordOf(h, i)] >> NibbleOffset(h)) & 0xF;
            frequency = Math.Min(frequency, count);
        }

        return frequency;
    }

    /// <summary>Counts one occurrence; halves every counter when the sample is full.</summary>
    public void Increment(int hash)
    {
        var spread = Spread(hash);
        var block = BlockOf(spread);
        var counterHash = (uint)(spread >> 32);
        var added = false;
        for (var i = 0; i < 4; i++)
        {
            var h = counterHash >> (i << 3);
            added |= TryIncrementAt(block + WordOf(h, i), NibbleOffset(h));
        }

        if (added && ++_size >= _sampleSize)
        {
            Reset();
        }
    }

    private bool TryIncrementAt(int index, int offset)
    {
        var mask = 0xFL << offset;
        if ((_table[index] & mask) != mask)
        {
            _table[index] += 1L << offset;
            return true;
        }

        return false;
    }

    private void Reset()
    {
        var odd = 0;
        for (var i = 0; i < _table.Length; i++)
        {
            odd += BitOperations.PopCount((ulong)(_table[i] & OneMask));
            _table[i] = (long)(((ulong)_table[i] >> 1) & ResetMask);
        }

        _size = (_size - (odd >> 2)) >> 1;
    }

    /// <summary>First word of the key's 64-byte block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int BlockOf(ulong spread) => ((int)spread & _blockMask) << 3;

    /// <summary>Counter <paramref name="i"/> lives in word 2i or 2i + 1 of the block (one bit of its byte of the hash).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WordOf(uint h, int i) => (int)(h & 1) + (i << 1);

    /// <summary>Bit offset of the counter's nibble in its word (four more bits of its byte of the hash).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NibbleOffset(uint h) => (int)((h >> 1) & 15) << 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Spread(int hash)
    {
        var x = (ulong)(uint)hash;
        x = (x ^ (x >> 17)) * 0xed5ad4bbUL;
        x = (x ^ (x >> 11)) * 0xac4c1b51UL;
        x = (x ^ (x >> 15)) * 0x31848babUL;
        return x ^ (x >> 14);
    }
}
