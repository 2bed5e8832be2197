using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Lossy, striped record of L1 hits (Caffeine's read buffer, simplified): a hit writes the entry into a small ring
/// of its thread's stripe without locks or atomics; when a stripe is half full, the store queues a replay of every
/// stripe into the policy (<see cref="L1Store.RecordRead"/>). Racing writers may overwrite each other's slots: some reads are lost,
/// which only makes the frequency estimate slightly coarser. The hit path therefore never blocks or allocates.
/// </summary>
internal sealed class StripedReadBuffer
{
    private const int SlotsPerStripe = 64; // power of two; room for a burst while a replay is queued
    private readonly Stripe[] _stripes;
    private readonly int _stripeMask;

    public StripedReadBuffer()
    {
        var count = Striping.Count(perProcessor: 4);
        _stripes = new Stripe[count];
        for (var i = 0; i < count; i++)
        {
            _stripes[i] = new Stripe();
        }

        _stripeMask = count - 1;
    }

    /// <summary>Records a read on the stripe of <paramref name="threadId"/> (the reader's managed thread id); returns true when the caller should try to drain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Record(PolicyNode node, int threadId)
    {
        var stripe = _stripes[threadId & _stripeMask];
        var tail = stripe.Tail;
        stripe.Slots[tail & (SlotsPerStripe - 1)].Node = node;
        stripe.Tail = tail + 1;
        return tail + 1 - stripe.Head >= SlotsPerStripe / 2;
    }

    /// <summary>Replays recorded reads into <paramref name="onRead"/>; call under the eviction lock only.</summary>
    public void Drain<TState>(TState state, Action<TState, PolicyNode> onRead)
    {
        foreach (var stripe in _stripes)
        {
            var tail = stripe.Tail;
            var head = stripe.Head;
            if (tail - head > SlotsPerStripe)
            {
                head = tail - SlotsPerStripe;
            }

            for (var i = head; i < tail; i++)
            {
                if (stripe.Slots[i & (SlotsPerStripe - 1)].Node is { } node)
                {
                    onRead(state, node);
                }
            }

            stripe.Head = tail;
        }
    }

    /// <summary>Forgets every recorded read (on clear).</summary>
    public void Clear()
    {
        foreach (var stripe in _stripes)
        {
            Array.Clear(stripe.Slots);
            stripe.Head = stripe.Tail;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private sealed class Stripe
    {
#pragma warning disable CS0169, IDE0051 // padding keeps stripes of different threads off one cache line
        private long _pad0, _pad1, _pad2, _pad3, _pad4, _pad5, _pad6;
#pragma warning restore CS0169, IDE0051
        public int Tail;
        public int Head;
        public readonly Slot[] Slots = new Slot[SlotsPerStripe];
    }

    // A struct around the reference: storing into a struct array needs no covariance check (a class array's store does).
    private struct Slot
    {
        public PolicyNode? Node;
    }
}
