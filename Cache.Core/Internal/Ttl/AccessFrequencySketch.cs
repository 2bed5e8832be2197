using System.Numerics;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Approximate, bounded access counts per key: a count-min sketch of <see cref="Depth"/> rows of 16-bit
/// saturating counters with conservative update, aged by halving every counter after a sample of
/// increments (TinyLFU's reset), so that counts reflect recent traffic and memory never grows with the
/// number of distinct keys.
/// </summary>
/// <remarks>
/// <para>
/// Memory is <c>Depth × Width × 2</c> bytes, fixed at construction. An estimate is never below the true count
/// since the last reset (barring the races below) and exceeds it only by collisions, which conservative
/// update (incrementing only the rows that hold the minimum) keeps small.
/// </para>
/// <para>
/// Thread safety: increments are plain reads and writes, so concurrent increments of the same counter (or of
/// the count of increments since the last halving) can lose one another; that costs a little accuracy, never
/// memory safety or boundedness. The periodic halving runs on one thread at a time.
/// </para>
/// </remarks>
internal sealed class AccessFrequencySketch
{
    /// <summary>The number of rows (independent hash functions).</summary>
    public const int Depth = 4;

    private readonly ushort[] _counters;
    private readonly int _widthMask;
    private readonly int _sampleSize;
    private readonly Lock _resetLock = new();

    // The increments since the last halving, written by every reader: kept in the middle of an array of its own so
    // that its cache line holds nothing else (beside this object's read-only fields it would make each of them miss
    // on the other core after every increment).
    private readonly int[] _additionsCell = new int[32];

    /// <summary>Creates a sketch.</summary>
    /// <param name="width">Counters per row; rounded up to a power of two, at least 16 and at most 2^24.</param>
    /// <param name="sampleSize">
    /// Increments between two halvings; 0 (the default) means <c>10 × width</c>, the TinyLFU choice.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    public AccessFrequencySketch(int width, int sampleSize = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 1 << 24);
        ArgumentOutOfRangeException.ThrowIfNegative(sampleSize);
        Width = Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)width));
        _widthMask = Width - 1;
        _counters = new ushort[Width * Depth];
        _sampleSize = sampleSize == 0 ? checked(Width * 10) : sampleSize;
    }

    /// <summary>Counters per row (a power of two).</summary>
    public int Width { get; }

    /// <summary>The increments after which every counter is halved.</summary>
    public int SampleSize => _sampleSize;

    /// <summary>The bytes held by the counters; fixed for the sketch's lifetime.</summary>
    public long MemoryBytes => (long)_counters.Length * sizeof(ushort);

    /// <summary>How many times the counters have been halved.</summary>
    public int Resets { get; private set; }

    private ref int Additions => ref _additionsCell[16];

    /// <summary>Records one access to the key with stable hash <paramref name="keyHash"/>.</summary>
    /// <param name="keyHash">The key's <see cref="StableHash.Fnv1a64(string)"/>.</param>
    public void Increment(ulong keyHash)
    {
        Span<int> indexes = stackalloc int[Depth];
        Indexes(keyHash, indexes);
        var min = ushort.MaxValue;
        for (var i = 0; i < Depth; i++)
        {
            min = Math.Min(min, _counters[indexes[i]]);
        }

        if (min != ushort.MaxValue)
        {
            for (var i = 0; i < Depth; i++)
            {
                ref var counter = ref _counters[indexes[i]];
                if (counter == min)
                {
                    counter = (ushort)(min + 1);
                }
            }
        }

        // A plain increment, like the counters': an atomic one on this shared field made every reader on every core
        // fight over one cache line. A lost increment only delays the next halving a little.
        if (++Additions >= _sampleSize)
        {
            Reset();
        }
    }

    /// <summary>Estimates the accesses recorded for the key since the counts were last aged.</summary>
    /// <param name="keyHash">The key's <see cref="StableHash.Fnv1a64(string)"/>.</param>
    /// <returns>The estimate, between 0 and <see cref="ushort.MaxValue"/>.</returns>
    public int Estimate(ulong keyHash)
    {
        Span<int> indexes = stackalloc int[Depth];
        Indexes(keyHash, indexes);
        int min = ushort.MaxValue;
        for (var i = 0; i < Depth; i++)
        {
            min = Math.Min(min, _counters[indexes[i]]);
        }

        return min;
    }

    private void Indexes(ulong keyHash, Span<int> indexes)
    {
        // One mixed 64-bit value gives two 32-bit halves; h1 + i·h2 (Kirsch–Mitzenmacher) yields the row
        // indexes as independent enough hash functions without hashing the key again.
        var mixed = StableHash.Mix(keyHash);
        var h1 = (uint)mixed;
        var h2 = (uint)(mixed >> 32) | 1;
        for (var i = 0; i < Depth; i++)
        {
            indexes[i] = (i * Width) + (int)((h1 + ((uint)i * h2)) & (uint)_widthMask);
        }
    }

    private void Reset()
    {
        if (!_resetLock.TryEnter())
        {
            return;
        }

        try
        {
            if (Volatile.Read(ref Additions) < _sampleSize)
            {
                return;
            }

            var counters = _counters.AsSpan();
            for (var i = 0; i < counters.Length; i++)
            {
                counters[i] >>= 1;
            }

            // As in TinyLFU, the sample itself is halved: what remains counts toward the next period.
            Interlocked.Exchange(ref Additions, _sampleSize / 2);
            Resets++;
        }
        finally
        {
            _resetLock.Exit();
        }
    }
}
