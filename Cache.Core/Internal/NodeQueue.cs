namespace OptimizedCache.Cache.Core.Internal;

/// <summary>An intrusive doubly linked LRU queue of <see cref="PolicyNode"/>s (head = least recently used).</summary>
internal sealed class NodeQueue
{
    public PolicyNode? First { get; private set; }

    public PolicyNode? Last { get; private set; }

    public long Weight { get; private set; }

    public int Count { get; private set; }

    public void AddLast(PolicyNode node)
    {
        node.Previous = Last;
        node.Next = null;
        if (Last is null)
        {
            First = node;
        }
        else
        {
            Last.Next = node;
        }

        Last = node;
        Weight += node.Weight;
        Count++;
    }

    public void Remove(PolicyNode node)
    {
        if (node.Previous is null)
        {
            First = node.Next;
        }
        else
        {
            node.Previous.Next = node.Next;
        }

        if (node.Next is null)
        {
            Last = node.Previous;
        }
        else
        {
            node.Next.Previous = node.Previous;
        }

        node.Previous = null;
        node.Next = null;
        Weight -= node.Weight;
        Count--;
    }

    public void MoveToLast(PolicyNode node)
    {
        if (ReferenceEquals(Last, node))
        {
            return;
        }

        Remove(node);
        AddLast(node);
    }

    /// <summary>Accounts for a change in the weight of a node already in this queue.</summary>
    public void AdjustWeight(long delta) => Weight += delta;
}
