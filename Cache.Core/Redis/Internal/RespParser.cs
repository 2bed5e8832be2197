using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace OptimizedCache.Cache.Core.Redis.Internal;

/// <summary>
/// Parses RESP2 replies from a <see cref="ReadOnlySequence{T}"/>. A reply is first checked for completeness and
/// validity without allocating (so a hostile or truncated header cannot make it allocate), then materialized.
/// </summary>
internal static class RespParser
{
    /// <summary>The deepest nesting of arrays accepted (Redis itself returns a few levels at most).</summary>
    internal const int MaxDepth = 64;

    /// <summary>The longest header or simple-string line accepted.</summary>
    internal const int MaxLineBytes = 64 * 1024;

    private static readonly string Ok = "OK";
    private static readonly string Pong = "PONG";
    private static readonly string Queued = "QUEUED";

    /// <summary>
    /// Reads one reply from the start of <paramref name="buffer"/>. On success the buffer is sliced past it.
    /// Returns false when more data is needed.
    /// </summary>
    /// <exception cref="RedisProtocolException">The data is not valid RESP2, or the reply exceeds <paramref name="maxReplyBytes"/>.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, long maxReplyBytes, out RedisReply reply)
    {
        var scan = new SequenceReader<byte>(buffer);
        if (!TrySkip(ref scan, maxReplyBytes, 0))
        {
            if (buffer.Length > maxReplyBytes + MaxLineBytes)
            {
                throw new RedisProtocolException($"A reply is larger than the {maxReplyBytes}-byte limit (MaxReplyBytes).");
            }

            reply = default;
            return false;
        }

        if (scan.Consumed > maxReplyBytes + MaxLineBytes)
        {
            throw new RedisProtocolException($"A reply of {scan.Consumed} bytes exceeds the {maxReplyBytes}-byte limit (MaxReplyBytes).");
        }

        var end = scan.Position;
        var read = new SequenceReader<byte>(buffer.Slice(0, end));
        reply = Materialize(ref read);
        buffer = buffer.Slice(end);
        return true;
    }

    private static bool TrySkip(ref SequenceReader<byte> reader, long maxReplyBytes, int depth)
    {
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

                if (length > maxReplyBytes)
                {
                    throw new RedisProtocolException($"A bulk string of {length} bytes exceeds the {maxReplyBytes}-byte limit (MaxReplyBytes).");
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
                if (depth >= MaxDepth)
                {
                    throw new RedisProtocolException($"Arrays nested deeper than {MaxDepth} levels.");
                }

                if (!TryReadLength(ref reader, out var count))
                {
                    return false;
                }

                for (long i = 0; i < count; i++)
                {
                    if (!TrySkip(ref reader, maxReplyBytes, depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            }

            default:
                throw new RedisProtocolException($"Unexpected RESP2 type byte 0x{type:X2} at the start of a reply.");
        }
    }

    private static RedisReply Materialize(ref SequenceReader<byte> reader)
    {
        reader.TryRead(out var type);
        TryReadLine(ref reader, out var line);
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

    private static bool TryReadLength(ref SequenceReader<byte> reader, out long length)
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

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
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
