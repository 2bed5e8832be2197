using System.Buffers;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over pooled arrays that refuses to grow past the payload limit (so a huge value
/// fails fast instead of being serialized whole and then dropped).
/// </summary>
internal sealed class PayloadBufferWriter(int limit) : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit, 256));
    private int _written;

    public bool LimitExceeded { get; private set; }

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= sizeHint)
        {
            return;
        }

        // Bounded: once past the limit (or asked for far more than it) the value cannot be cached; stop now rather
        // than serialize it whole. The caller also checks WrittenCount against the limit afterwards.
        var needed = (long)_written + sizeHint;
        if (_written > limit || needed > (long)limit + 65536)
        {
            LimitExceeded = true;
            throw new PayloadTooLargeException(limit);
        }

        var size = (int)Math.Min(Math.Max(needed, (long)_buffer.Length * 2), (long)limit + 65536);
        var next = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _written).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }
}

/// <summary>Thrown by <see cref="PayloadBufferWriter"/> when a serializer writes past the payload limit.</summary>
internal sealed class PayloadTooLargeException(int limit)
    : Exception($"The serialized value exceeds MaximumPayloadBytes ({limit}).")
{
}
