using System.Runtime.CompilerServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Exact counters by data type and <see cref="CounterKind"/>, striped by thread so that concurrent hits do not all
/// fight over one cache line. Read by summing the stripes (metrics are observable instruments over these).
/// </summary>
internal sealed class StripedCounters
{
    private static readonly int Kinds = Enum.GetValues<CounterKind>().Length;
    private readonly long[] _cells;
    private readonly int _dataTypes;
    private readonly int _stripeMask;
    private readonly int _stripeLength;

    public StripedCounters(int dataTypes)
    {
        _dataTypes = dataTypes;
        var stripes = Striping.Count(perProcessor: 2);
        _stripeMask = stripes - 1;
        _stripeLength = (dataTypes * Kinds) + 8; // + 64 bytes so that neighbouring stripes never share a line
        _cells = new long[stripes * _stripeLength];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Increment(int dataType, CounterKind kind) => Increment(Environment.CurrentManagedThreadId, dataType, kind);

    /// <summary>Counts one on the stripe of <paramref name="threadId"/> (the caller's managed thread id, read once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Increment(int threadId, int dataType, CounterKind kind)
    {
        var stripe = threadId & _stripeMask;
        Interlocked.Increment(ref _cells[(stripe * _stripeLength) + (dataType * Kinds) + (int)kind]);
    }

    public long Sum(int dataType, CounterKind kind)
    {
        long total = 0;
        for (var stripe = 0; stripe <= _stripeMask; stripe++)
        {
            total += Volatile.Read(ref _cells[(stripe * _stripeLength) + (dataType * Kinds) + (int)kind]);
        }

        return total;
    }

    public long Sum(CounterKind kind)
    {
        long total = 0;
        for (var dataType = 0; dataType < _dataTypes; dataType++)
        {
            total += Sum(dataType, kind);
        }

        return total;
    }
}
