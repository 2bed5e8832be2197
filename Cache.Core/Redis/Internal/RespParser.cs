using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace OptimizedCache.Cache.Core.Redis.Internal;

/// <summary>
/// Parses RESP2 replies from a <see cref="ReadOnlySequence{T}"/>. A reply is first checked for completeness and
/// validity without allocating (so a hostile or truncated header cannot make it allocate), then materialized.
/// </summary>
/// <remarks>
/// The check is resumable: when a reply is incomplete, the parser remembers how far it validated (an element
/// boundary, as an offset from the reply's start, plus the elements still expected by each open array) and the
/// next call continues from there. The caller must hand back the same reply start (the connection advances its
/// reader only past complete replies), so a large array arriving in many pieces is examined once, not once per
/// piece. One instance per connection; not thread-safe.
/// </remarks>
internal sealed class RespParser
{
    /// <summary>The deepest nesting of arrays accepted (Redis itself returns a few levels at most).</summary>
    internal const int MaxDepth = 64;

    /// <summary>The longest header or simple-string line accepted.</summary>
    internal const int MaxLineBytes = 64 * 1024;

    private static readonly string Ok = "OK";
    private static readonly string Pong = "PONG";
    private static readonly string Queued = "QUEUED";

    private readonly long _maxReplyBytes;

    // Elements still expected by each open array of the reply being validated, outermost first.
    private readonly long[] _remaining = new long[MaxDepth];
    private int _depth;
    private bool _inReply;

    // Bytes from the reply's start already validated; always an element boundary.
    private long _validated;

    /// <summary>Creates a parser that rejects replies larger than <paramref name="maxReplyBytes"/>.</summary>
    public RespParser(long maxReplyBytes)
    {
        _maxReplyBytes = maxReplyBytes;
    }

    /// <summary>
    /// How many bytes the parser has looked at in total (validation and materialization), so that tests can check
    /// that a reply arriving in pieces is not re-examined from its start each time.
    /// </summary>
    internal long BytesExamined { get; private set; }

    /// <summary>
    /// Reads one reply from the start of <paramref name="buffer"/>. On success the buffer is sliced past it.
    /// Returns false when more data is needed; the next call must pass a buffer that starts at the same reply.
    /// </summary>
    /// <param name="buffer">The bytes received and not yet consumed.</param>
    /// <param name="reply">The reply, when one is complete.</param>
    /// <param name="pooledBulk">
    /// Asked once a complete reply is a bulk string (not nil, not empty): true reads it into an array rented from
    /// <see cref="ArrayPool{T}.Shared"/> (<see cref="RedisReply.PooledBulkString"/>). Null: never pooled.
    /// </param>
    /// <exception cref="RedisProtocolException">The data is not valid RESP2, or the reply exceeds the size limit.</exception>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out RedisReply reply, Func<bool>? pooledBulk = null)
    {
        if (!_inReply)
        {
            _inReply = true;
            _depth = 0;
            _validated = 0;
        }

        var scan = new SequenceReader<byte>(buffer);
        scan.Advance(_validated);
        if (!TryValidate(ref scan))
        {
            if (buffer.Length > _maxReplyBytes + MaxLineBytes)
            {
                throw new RedisProtocolException($"A reply is larger than the {_maxReplyBytes}-byte limit (MaxReplyBytes).");
            }

            reply = default;
            return false;
        }

        _inReply = false;
        if (scan.Consumed > _maxReplyBytes + MaxLineBytes)
        {
            throw new RedisProtocolException($"A reply of {scan.Consumed} bytes exceeds the {_maxReplyBytes}-byte limit (MaxReplyBytes).");
        }

        var end = scan.Position;

        // Materializing walks the reply once more.
        BytesExamined += scan.Consumed;
        var read = new SequenceReader<byte>(buffer.Slice(0, end));
        reply = Materialize(ref read, pooledBulk);
        buffer = buffer.Slice(end);
        return true;
    }

    /// <summary>
    /// Validates element after element from the saved boundary, without recursion, saving the boundary and the
    /// open arrays after each one. True when the whole reply is present.
    /// </summary>
    private bool TryValidate(ref SequenceReader<byte> reader)
    {
        while (true)
        {
            var start = reader.Consumed;
            if (!TrySkipElement(ref reader, out var arrayCount))
            {
                // The incomplete element's own bytes are read again next time (a line search adds what it searched).
                BytesExamined += reader.Consumed - start;
                return false;
            }

            BytesExamined += reader.Consumed - start;
            if (arrayCount > 0)
            {
                // An array header: its elements follow; it is complete when they are.
                _remaining[_depth++] = arrayCount;
            }
            else
            {
                // A complete value (an empty or nil array included): it completes one element of each array it closes.
                while (_depth > 0 && --_remaining[_depth - 1] == 0)
                {
                    _depth--;
                }

                if (_depth == 0)
                {
                    return true;
                }
            }

            _validated = reader.Consumed;
        }
    }

    /// <summary>
    /// Skips one element's own bytes (a whole leaf, or just an array's header, whose count is returned in
    /// <paramref name="arrayCount"/>; 0 otherwise). False, with nothing consumed that matters, when incomplete.
    /// </summary>
    private bool TrySkipElement(ref SequenceReader<byte> reader, out long arrayCount)
    {
        arrayCount = 0;
        if (!reader.TryRead(out var type))
        {
            return false;
        }

        switch (type)
        {
            case (byte)'+':
            case (byte)'-':
                return TryReadLine(ref reader, out _);
            case (byte)':':
                if (!TryReadLine(ref reader, out var intLine))
                {
                    return false;
                }

                ParseInteger(intLine);
                return true;
            case (byte)'$':
            {
                if (!TryReadLength(ref reader, out var length))
                {
                    return false;
                }

                if (length == -1)
                {
                    return true;
                }

                if (length > _maxReplyBytes)
                {
                    throw new RedisProtocolException($"A bulk string of {length} bytes exceeds the {_maxReplyBytes}-byte limit (MaxReplyBytes).");
                }

                if (reader.Remaining < length + 2)
                {
                    return false;
                }

                reader.Advance(length);
                ExpectCrlf(ref reader);
                return true;
            }

            case (byte)'*':
            {
                if (_depth >= MaxDepth)
                {
                    throw new RedisProtocolException($"Arrays nested deeper than {MaxDepth} levels.");
                }

                if (!TryReadLength(ref reader, out var count))
                {
                    return false;
                }

                arrayCount = count;
                return true;
            }

            default:
                throw new RedisProtocolException($"Unexpected RESP2 type byte 0x{type:X2} at the start of a reply.");
        }
    }

    private static RedisReply Materialize(ref SequenceReader<byte> reader, Func<bool>? pooledBulk = null)
    {
        reader.TryRead(out var type);
        TryReadLineCore(ref reader, out var line);
        switch (type)
        {
            case (byte)'+':
                return RedisReply.SimpleString(DecodeSimple(line));
            case (byte)'-':
                return RedisReply.Error(Encoding.UTF8.GetString(line));
            case (byte)':':
                return RedisReply.Integer(ParseInteger(line));
            case (byte)'$':
            {
                var length = ParseInteger(line);
                if (length == -1)
                {
                    return RedisReply.BulkString(null);
                }

                if (length > 0 && pooledBulk is not null && pooledBulk())
                {
                    var rented = ArrayPool<byte>.Shared.Rent((int)length);
                    reader.TryCopyTo(rented.AsSpan(0, (int)length));
                    reader.Advance(length + 2);
                    return RedisReply.PooledBulkString(rented, (int)length);
                }

                var bytes = GC.AllocateUninitializedArray<byte>((int)length);
                reader.TryCopyTo(bytes);
                reader.Advance(length + 2);
                return RedisReply.BulkString(bytes);
            }

            default:
            {
                var count = ParseInteger(line);
                if (count == -1)
                {
                    return RedisReply.Array(null);
                }

                // The scan pass proved all elements are present, so count is bounded by the bytes received.
                var elements = new RedisReply[count];
                for (var i = 0; i < elements.Length; i++)
                {
                    elements[i] = Materialize(ref reader);
                }

                return RedisReply.Array(elements);
            }
        }
    }

    private bool TryReadLength(ref SequenceReader<byte> reader, out long length)
    {
        if (!TryReadLine(ref reader, out var line))
        {
            length = 0;
            return false;
        }

        length = ParseInteger(line);
        if (length < -1 || length > int.MaxValue)
        {
            throw new RedisProtocolException($"Invalid length {length} in a reply header.");
        }

        return true;
    }

    private bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        if (TryReadLineCore(ref reader, out line))
        {
            return true;
        }

        // The incomplete line was searched to the end of what has arrived; it is searched again next time.
        BytesExamined += reader.Remaining;
        return false;
    }

    private static bool TryReadLineCore(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        if (reader.TryReadTo(out line, (byte)'\n'))
        {
            if (line.Length == 0 || line[^1] != (byte)'\r')
            {
                throw new RedisProtocolException("A reply line ends with LF without CR.");
            }

            if (line.Length > MaxLineBytes + 1)
            {
                throw new RedisProtocolException($"A reply line is longer than {MaxLineBytes} bytes.");
            }

            line = line[..^1];
            return true;
        }

        if (reader.Remaining > MaxLineBytes + 1)
        {
            throw new RedisProtocolException($"A reply line is longer than {MaxLineBytes} bytes.");
        }

        return false;
    }

    private static long ParseInteger(ReadOnlySpan<byte> line)
    {
        if (line.Length == 0 || !Utf8Parser.TryParse(line, out long value, out var consumed) || consumed != line.Length)
        {
            throw new RedisProtocolException($"Invalid integer in a reply ({line.Length} bytes).");
        }

        return value;
    }

    private static void ExpectCrlf(ref SequenceReader<byte> reader)
    {
        if (!reader.TryRead(out var cr) || !reader.TryRead(out var lf) || cr != '\r' || lf != '\n')
        {
            throw new RedisProtocolException("A bulk string is not followed by CRLF.");
        }
    }

    private static string DecodeSimple(ReadOnlySpan<byte> line)
    {
        // The common replies are interned so that SET and PING allocate nothing for their answer.
        if (line.SequenceEqual("OK"u8))
        {
            return Ok;
        }

        if (line.SequenceEqual("PONG"u8))
        {
            return Pong;
        }

        return line.SequenceEqual("QUEUED"u8) ? Queued : Encoding.UTF8.GetString(line);
    }
}
