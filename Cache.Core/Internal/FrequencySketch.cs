using System.Numerics;
using System.Runtime.CompilerServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// A count-min sketch of 4-bit counters estimating how often each key was seen recently (TinyLFU). Four counters per
/// key, one in each of four 16-counter groups of a 64-bit word; the estimate is the minimum. After a sample of
/// 10 × capacity increments every counter is halved, so the history ages and old popularity fades.
/// </summary>
/// <remarks>Not thread-safe: used under the store's eviction lock only.</remarks>
internal sealed class FrequencySketch
{
    private const long ResetMask = 0x7777777777777777L;
    private const long OneMask = 0x1111111111111111L;
    private const int MaximumTableLength = 1 << 24; // 128 MiB of counters at most: the sketch is bounded
    private static readonly ulong[] Seeds = [0xc3a5c85c97cb3127UL, 0xb492b66fbe98f273UL, 0x9ae16a3b2f90404fUL, 0xcbf29ce484222325UL];

    private long[] _table = [];
    private int _tableMask;
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
        _tableMask = length - 1;
        _sampleSize = (int)Math.Min(10L * length, int.MaxValue);
        _size = 0;
    }

    /// <summary>Estimated recent frequency of the hash, 0 to 15.</summary>
    public int Frequency(int hash)
    {
        var blockHash = Spread(hash);
        var frequency = int.MaxValue;
        for (var i = 0; i < 4; i++)
        {
            var index = IndexOf(blockHash, i);
            var offset = CounterOffset(blockHash, i);
            var count = (int)((ulong)_table[index] >> offset) & 0xF;
            frequency = Math.Min(frequency, count);
        }

        return frequency;
    }

    /// <summary>Counts one occurrence; halves every counter when the sample is full.</summary>
    public void Increment(int hash)
    {
        var blockHash = Spread(hash);
        var added = false;
        for (var i = 0; i < 4; i++)
        {
            added |= TryIncrementAt(IndexOf(blockHash, i), CounterOffset(blockHash, i));
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int IndexOf(ulong blockHash, int i)
    {
        var h = (blockHash + Seeds[i]) * Seeds[i];
        h += h >> 32;
        return (int)h & _tableMask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CounterOffset(ulong blockHash, int i) => (int)(((blockHash >> (i * 8)) & 3) << 2) + (i * 16);

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
