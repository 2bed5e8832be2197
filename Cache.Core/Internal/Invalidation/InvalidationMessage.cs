using System.Buffers.Binary;
using System.Text;

namespace OptimizedCache.Cache.Core.Internal.Invalidation;

/// <summary>What an invalidation message drops; the numbers are on the wire and never renumbered.</summary>
internal enum InvalidationKind : byte
{
    /// <summary>Entries by key.</summary>
    Key = 1,

    /// <summary>Entries carrying a tag.</summary>
    Tag = 2,

    /// <summary>Entries whose keys match a glob pattern.</summary>
    Pattern = 3,

    /// <summary>Everything (a clear, or the marker written after the outage queue overflowed).</summary>
    All = 4,

    /// <summary>
    /// Keys whose value another replica has just replaced in L2 (SetAsync): L1 copies go, L2 stays. The message's
    /// time is when the new value was in Redis: only reads that started before it can hold the previous value.
    /// </summary>
    Overwrite = 5,
}

/// <summary>
/// One message on <c>{prefix}:invalidation</c>, the L1 coherence channel. Binary, versioned, bounded:
/// <code>
/// 0      version (1)
/// 1      kind (InvalidationKind)
/// 2..17  sender instance id (16 bytes, random per cache instance)
/// 18..25 invalidation time, UTC ticks (int64 little-endian)
/// 26..27 item count (uint16 little-endian): keys, tags or one pattern; 0 for All
/// then   per item: length (uint16 little-endian) and that many bytes of strict UTF-8
/// </code>
/// A message is at most <see cref="MaximumBytes"/>; a larger batch of keys or tags is split across messages.
/// Decoding never throws: anything that does not parse exactly (unknown version or kind, short or trailing bytes,
/// invalid UTF-8, an empty item) is malformed, and the receiver counts and ignores it.
/// </summary>
internal sealed class InvalidationMessage
{
    /// <summary>The format version written by this build.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The largest message sent or accepted, in bytes.</summary>
    public const int MaximumBytes = 64 * 1024;

    /// <summary>The most items in one message.</summary>
    public const int MaximumItems = 4096;

    internal const int HeaderBytes = 28;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public InvalidationMessage(InvalidationKind kind, Guid sender, long utcTicks, string[] items)
    {
        Kind = kind;
        Sender = sender;
        UtcTicks = utcTicks;
        Items = items;
    }

    public InvalidationKind Kind { get; }

    public Guid Sender { get; }

    public long UtcTicks { get; }

    public string[] Items { get; }

    /// <summary>
    /// Encodes items into as few messages as the size bounds allow (every message carries the same kind, sender and
    /// time). An item too large for any message is an <see cref="ArgumentException"/>; callers bound items well below.
    /// </summary>
    public static List<byte[]> Encode(InvalidationKind kind, Guid sender, long utcTicks, IReadOnlyList<string> items)
    {
        var messages = new List<byte[]>(1);
        var start = 0;
        do
        {
            var size = HeaderBytes;
            var end = start;
            while (end < items.Count && end - start < MaximumItems)
            {
                var itemBytes = 2 + Encoding.UTF8.GetByteCount(items[end]);
                if (HeaderBytes + 2 + itemBytes > MaximumBytes || itemBytes - 2 > ushort.MaxValue)
                {
                    throw new ArgumentException($"An invalidation item of {itemBytes - 2} UTF-8 bytes does not fit in a message ({MaximumBytes} bytes).", nameof(items));
                }

                if (size + itemBytes > MaximumBytes)
                {
                    break;
                }

                size += itemBytes;
                end++;
            }

            var buffer = new byte[size];
            buffer[0] = CurrentVersion;
            buffer[1] = (byte)kind;
            sender.TryWriteBytes(buffer.AsSpan(2, 16));
            BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(18), utcTicks);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(26), (ushort)(end - start));
            var offset = HeaderBytes;
            for (var i = start; i < end; i++)
            {
                var written = Encoding.UTF8.GetBytes(items[i], buffer.AsSpan(offset + 2));
                BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(offset), (ushort)written);
                offset += 2 + written;
            }

            messages.Add(buffer);
            start = end;
        }
        while (start < items.Count);

        return messages;
    }

    /// <summary>Parses a message; false when it is malformed in any way.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out InvalidationMessage? message)
    {
        message = null;
        if (bytes.Length < HeaderBytes || bytes.Length > MaximumBytes || bytes[0] != CurrentVersion)
        {
            return false;
        }

        var kind = (InvalidationKind)bytes[1];
        if (kind is not (InvalidationKind.Key or InvalidationKind.Tag or InvalidationKind.Pattern or InvalidationKind.All or InvalidationKind.Overwrite))
        {
            return false;
        }

        var sender = new Guid(bytes.Slice(2, 16));
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(bytes[18..]);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(bytes[26..]);
        var expected = kind switch
        {
            InvalidationKind.All => count == 0,
            InvalidationKind.Pattern => count == 1,
            _ => count is >= 1 and <= MaximumItems,
        };
        if (!expected || count * 3 > bytes.Length - HeaderBytes)
        {
            // every item needs at least 3 bytes (length + one byte): checked before allocating for the count
            return false;
        }

        var items = count == 0 ? [] : new string[count];
        var rest = bytes[HeaderBytes..];
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (rest.Length < 2)
                {
                    return false;
                }

                int length = BinaryPrimitives.ReadUInt16LittleEndian(rest);
                if (length == 0 || rest.Length < 2 + length)
                {
                    return false;
                }

                items[i] = StrictUtf8.GetString(rest.Slice(2, length));
                rest = rest[(2 + length)..];
            }
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        if (!rest.IsEmpty)
        {
            return false;
        }

        message = new InvalidationMessage(kind, sender, ticks, items);
        return true;
    }
}
