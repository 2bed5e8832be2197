using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using OptimizedCache.Cache.Core.Redis;
using OptimizedCache.Cache.Core.Redis.Internal;

namespace OptimizedCache.Cache.Core.Tests.Redis;

/// <summary>The RESP2 parser fed from in-memory pipes: every type, every split, malformed and fuzzed input.</summary>
public sealed class RespParserTests
{
    private const long Max = 1024 * 1024;

    private static readonly (string Wire, RedisReply Expected)[] Samples =
    [
        ("+OK\r\n", RedisReply.SimpleString("OK")),
        ("+hello world\r\n", RedisReply.SimpleString("hello world")),
        ("-ERR unknown command\r\n", RedisReply.Error("ERR unknown command")),
        (":0\r\n", RedisReply.Integer(0)),
        (":-9223372036854775808\r\n", RedisReply.Integer(long.MinValue)),
        (":9223372036854775807\r\n", RedisReply.Integer(long.MaxValue)),
        ("$3\r\nfoo\r\n", RedisReply.BulkString("foo"u8.ToArray())),
        ("$0\r\n\r\n", RedisReply.BulkString([])),
        ("$-1\r\n", RedisReply.BulkString(null)),
        ("$4\r\na\r\nb\r\n", RedisReply.BulkString("a\r\nb"u8.ToArray())),
        ("*0\r\n", RedisReply.Array([])),
        ("*-1\r\n", RedisReply.Array(null)),
        ("*3\r\n$1\r\na\r\n:7\r\n$-1\r\n", RedisReply.Array([RedisReply.BulkString("a"u8.ToArray()), RedisReply.Integer(7), RedisReply.BulkString(null)])),
        ("*2\r\n*2\r\n+x\r\n-E y\r\n*-1\r\n", RedisReply.Array([RedisReply.Array([RedisReply.SimpleString("x"), RedisReply.Error("E y")]), RedisReply.Array(null)])),
    ];

    [Fact]
    public void ParsesEveryResp2Type()
    {
        foreach (var (wire, expected) in Samples)
        {
            var replies = ParseChunks([Encoding.UTF8.GetBytes(wire)]);

            Assert.Equal([expected], replies);
        }
    }

    [Fact]
    public void ParsesTheSameRepliesWhenTheStreamIsSplitAtEveryByte()
    {
        var wire = Encoding.UTF8.GetBytes(string.Concat(Samples.Select(s => s.Wire)));
        var expected = Samples.Select(s => s.Expected).ToArray();

        for (var split = 0; split <= wire.Length; split++)
        {
            var replies = ParseChunks([wire[..split], wire[split..]]);

            Assert.Equal(expected, replies);
        }
    }

    [Fact]
    public void ParsesTheSameRepliesWhenFedOneByteAtATime()
    {
        var wire = Encoding.UTF8.GetBytes(string.Concat(Samples.Select(s => s.Wire)));

        var replies = ParseChunks(wire.Select(b => new[] { b }));

        Assert.Equal(Samples.Select(s => s.Expected), replies);
    }

    [Fact]
    public void ReturnsOwnedBytesForALargeBulkStringSpanningSegments()
    {
        var value = new byte[200_000];
        new Random(7).NextBytes(value);
        var wire = Encoding.ASCII.GetBytes($"${value.Length}\r\n").Concat(value).Concat("\r\n"u8.ToArray()).ToArray();

        var replies = ParseChunks(wire.Chunk(4096));

        Assert.Equal(value, Assert.Single(replies).AsBytes());
    }

    [Fact]
    public void ParsesALargeNestedArrayArrivingInSmallPiecesExaminingEachByteAFewTimesAtMost()
    {
        // 100,000 elements (integers, bulk strings, nil, and a small nested array every 1,000th), then a second reply.
        var expected = new RedisReply[100_000];
        var wire = new StringBuilder("*100000\r\n");
        for (var i = 0; i < expected.Length; i++)
        {
            switch (i % 1000 == 999 ? 3 : i % 3)
            {
                case 0:
                    expected[i] = RedisReply.Integer(i);
                    wire.Append(':').Append(i).Append("\r\n");
                    break;
                case 1:
                    var text = $"v{i}";
                    expected[i] = RedisReply.BulkString(Encoding.ASCII.GetBytes(text));
                    wire.Append('$').Append(text.Length).Append("\r\n").Append(text).Append("\r\n");
                    break;
                case 2:
                    expected[i] = RedisReply.BulkString(null);
                    wire.Append("$-1\r\n");
                    break;
                default:
                    expected[i] = RedisReply.Array([RedisReply.SimpleString("x"), RedisReply.Array([]), RedisReply.Integer(-i)]);
                    wire.Append("*3\r\n+x\r\n*0\r\n:").Append(-i).Append("\r\n");
                    break;
            }
        }

        wire.Append("+PONG\r\n");
        var bytes = Encoding.ASCII.GetBytes(wire.ToString());
        var parser = new RespParser(Max * 16);

        // 7-byte pieces split headers, numbers and CRLFs everywhere.
        var replies = ParseChunks(bytes.Chunk(7), parser);

        Assert.Equal(2, replies.Count);
        Assert.Equal(expected, replies[0].Elements);
        Assert.Equal("PONG", replies[1].AsString());

        // Resumed, not re-scanned: each byte is validated about once and materialized once (a re-scan from the
        // reply's start on each of the ~170,000 pieces would examine about 10^11 bytes).
        Assert.InRange(parser.BytesExamined, bytes.Length, 3L * bytes.Length);
    }

    [Theory]
    [InlineData("!oops\r\n")]
    [InlineData(":12a\r\n")]
    [InlineData(":\r\n")]
    [InlineData("$-2\r\n")]
    [InlineData("*-3\r\n")]
    [InlineData("$3\r\nfooXY")]
    [InlineData("+OK\n")]
    [InlineData("$99999999999\r\n")]
    [InlineData("*1\r\n?\r\n")]
    public void RejectsMalformedReplies(string wire)
    {
        Assert.Throws<RedisProtocolException>(() => ParseChunks([Encoding.ASCII.GetBytes(wire)]));
    }

    [Fact]
    public void RejectsArraysNestedTooDeeply()
    {
        var wire = string.Concat(Enumerable.Repeat("*1\r\n", RespParser.MaxDepth + 1)) + ":1\r\n";

        Assert.Throws<RedisProtocolException>(() => ParseChunks([Encoding.ASCII.GetBytes(wire)]));
    }

    [Fact]
    public void RejectsABulkStringOverTheReplyLimitFromItsHeaderAlone()
    {
        var ex = Assert.Throws<RedisProtocolException>(() => ParseChunks([Encoding.ASCII.GetBytes("$2000\r\n")], maxReplyBytes: 1000));

        Assert.Contains("MaxReplyBytes", ex.Message);
    }

    [Fact]
    public void RejectsAnArrayWhoseElementsTogetherExceedTheReplyLimit()
    {
        var element = "$900\r\n" + new string('x', 900) + "\r\n";
        var wire = "*200\r\n" + string.Concat(Enumerable.Repeat(element, 200));

        Assert.Throws<RedisProtocolException>(() => ParseChunks([Encoding.ASCII.GetBytes(wire)], maxReplyBytes: 100_000));
    }

    [Fact]
    public void RejectsALineThatNeverEnds()
    {
        var wire = "+" + new string('a', RespParser.MaxLineBytes + 10);

        Assert.Throws<RedisProtocolException>(() => ParseChunks([Encoding.ASCII.GetBytes(wire)]));
    }

    [Fact]
    public void DoesNotAllocateForAHugeClaimedArrayThatHasNotArrived()
    {
        var wire = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("*2147483647\r\n:1\r\n:2\r\n$5\r\nab"));
        var parser = new RespParser(RedisConnectionOptions.DefaultMaxReplyBytes);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var complete = parser.TryRead(ref wire, out _);

        Assert.False(complete);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
    }

    [Fact]
    public void ABulkStringAskedForPooledIsReadIntoARentedArrayAndOtherRepliesAreNotAsked()
    {
        var value = Encoding.ASCII.GetBytes(new string('v', 300));
        var wire = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("+OK\r\n$-1\r\n$0\r\n\r\n$300\r\n" + new string('v', 300) + "\r\n:7\r\n"));
        var parser = new RespParser(Max);
        var asked = 0;
        var replies = new List<RedisReply>();
        while (parser.TryRead(ref wire, out var reply, () => { asked++; return true; }))
        {
            replies.Add(reply);
        }

        Assert.Equal(1, asked); // only the non-empty bulk string
        Assert.Equal(5, replies.Count);
        Assert.False(replies[0].TryTakeLease(out _, out _));
        Assert.True(replies[1].IsNull);
        Assert.Empty(replies[2].AsBytes()!);
        Assert.True(replies[3].TryTakeLease(out var rented, out var length));
        Assert.Equal(300, length);
        Assert.True(rented.Length >= 300);
        Assert.Equal(value, rented.AsSpan(0, length).ToArray());

        // every other accessor sees exactly the value, as for an owned bulk string
        Assert.Equal(value, replies[3].AsBytes());
        Assert.Equal(new string('v', 300), replies[3].AsString());
        Assert.Equal(RedisReply.BulkString(value), replies[3]);
        Assert.Equal("BulkString (300 bytes)", replies[3].ToString());
        Assert.Equal(7, replies[4].AsInt64());
        ArrayPool<byte>.Shared.Return(rented);
    }

    [Fact]
    public void ABulkStringNotAskedForPooledOwnsAnArrayOfItsExactLength()
    {
        var wire = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("$3\r\nabc\r\n"));
        var parser = new RespParser(Max);

        Assert.True(parser.TryRead(ref wire, out var reply, () => false));

        Assert.False(reply.TryTakeLease(out _, out _));
        Assert.Equal("abc"u8.ToArray(), reply.AsBytes());
    }

    [Fact]
    public void RandomBytesGiveAValueOrAProtocolErrorAndNothingElse()
    {
        var random = new Random(20240601);
        const string alphabet = "+-:$*\r\n0123456789-abc";
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 48)];
            for (var j = 0; j < bytes.Length; j++)
            {
                bytes[j] = random.Next(4) == 0 ? (byte)random.Next(256) : (byte)alphabet[random.Next(alphabet.Length)];
            }

            AssertParsesOrRejects(bytes);
        }
    }

    [Fact]
    public void MutatedValidRepliesGiveAValueOrAProtocolErrorAndNothingElse()
    {
        var random = new Random(424242);
        var valid = Samples.Select(s => Encoding.UTF8.GetBytes(s.Wire)).ToArray();
        for (var i = 0; i < 5000; i++)
        {
            var bytes = (byte[])valid[random.Next(valid.Length)].Clone();
            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations && bytes.Length > 0; m++)
            {
                switch (random.Next(3))
                {
                    case 0:
                        bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                        break;
                    case 1:
                        bytes = bytes[..random.Next(bytes.Length)];
                        break;
                    default:
                        var at = random.Next(bytes.Length);
                        bytes = [.. bytes[..at], (byte)"0123456789*$\r\n"[random.Next(14)], .. bytes[at..]];
                        break;
                }
            }

            AssertParsesOrRejects(bytes);
        }
    }

    private static void AssertParsesOrRejects(byte[] bytes)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            var buffer = new ReadOnlySequence<byte>(bytes);
            var parser = new RespParser(Max);
            var guard = 0;
            while (parser.TryRead(ref buffer, out var reply))
            {
                _ = reply.ToString();
                Assert.True(++guard <= bytes.Length, "The parser produced more replies than there are bytes.");
            }
        }
        catch (RedisProtocolException)
        {
            // A clear protocol error is one of the two allowed outcomes.
        }

        // Garbage cannot make it allocate more than a small multiple of the input.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256 * 1024, $"allocation for {bytes.Length} input bytes");
    }

    /// <summary>Pushes chunks through a real <see cref="Pipe"/> and parses what the reader sees, as the connection does.</summary>
    private static List<RedisReply> ParseChunks(IEnumerable<byte[]> chunks, long maxReplyBytes = Max) =>
        ParseChunks(chunks, new RespParser(maxReplyBytes));

    private static List<RedisReply> ParseChunks(IEnumerable<byte[]> chunks, RespParser parser)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 512));
        var replies = new List<RedisReply>();
        foreach (var chunk in chunks.Where(c => c.Length > 0))
        {
            pipe.Writer.Write(chunk);
            pipe.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
            Assert.True(pipe.Reader.TryRead(out var result));
            var buffer = result.Buffer;
            try
            {
                while (parser.TryRead(ref buffer, out var reply))
                {
                    replies.Add(reply);
                }
            }
            finally
            {
                pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }

        return replies;
    }
}
