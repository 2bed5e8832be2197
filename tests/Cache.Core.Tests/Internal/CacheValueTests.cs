using System.Buffers;
using System.Buffers.Binary;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class CacheValueTests
{
    private static readonly CacheEnvelopeHeader SampleHeader = new(
        CompressionCodecId.Lz4, "product", 1_700_000_000_000, 1_700_000_060_000, 5000, ["catalog:shoes", "product:42", "ünïcode"]);

    [Fact]
    public void RoundTripsEveryHeaderFieldAndThePayload()
    {
        var payload = TestPayloads.Random(300);
        var writer = new ArrayBufferWriter<byte>();

        var written = CacheValue.Write(writer, SampleHeader, payload);

        Assert.Equal(writer.WrittenCount, written);
        Assert.Equal(CacheValue.GetEncodedLength(SampleHeader, payload.Length), written);
        Assert.Equal(EnvelopeReadResult.Ok, CacheValue.TryRead(writer.WrittenSpan, out var header, out ReadOnlySpan<byte> read));
        Assert.Equal(SampleHeader.Codec, header.Codec);
        Assert.Equal(SampleHeader.DataType, header.DataType);
        Assert.Equal(SampleHeader.CreatedAtUnixMilliseconds, header.CreatedAtUnixMilliseconds);
        Assert.Equal(SampleHeader.ExpiresAtUnixMilliseconds, header.ExpiresAtUnixMilliseconds);
        Assert.Equal(SampleHeader.UncompressedLength, header.UncompressedLength);
        Assert.Equal(SampleHeader.Tags, header.Tags);
        Assert.Equal(payload, read.ToArray());
    }

    [Fact]
    public void GivesThePayloadAsARangeOfTheInput()
    {
        var writer = new ArrayBufferWriter<byte>();
        CacheValue.Write(writer, SampleHeader with { Tags = [] }, [1, 2, 3]);

        Assert.Equal(EnvelopeReadResult.Ok, CacheValue.TryRead(writer.WrittenSpan, out _, out Range range));
        Assert.Equal(new byte[] { 1, 2, 3 }, writer.WrittenMemory[range].ToArray());
    }

    [Fact]
    public void RoundTripsAnEmptyUncompressedPayloadWithoutDataTypeOrTags()
    {
        var writer = new ArrayBufferWriter<byte>();
        var header = new CacheEnvelopeHeader(CompressionCodecId.None, "", 0, 0, 0, []);

        Assert.Equal(CacheValue.MinimumHeaderLength, CacheValue.Write(writer, header, []));
        Assert.Equal(EnvelopeReadResult.Ok, CacheValue.TryRead(writer.WrittenSpan, out var read, out ReadOnlySpan<byte> payload));
        Assert.Equal("", read.DataType);
        Assert.Empty(read.Tags);
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void ReportsAnUnknownFormatVersion()
    {
        var bytes = Encode(SampleHeader, [9]);
        bytes[2] = CacheValue.FormatVersion + 1;

        Assert.Equal(EnvelopeReadResult.UnknownVersion, CacheValue.TryRead(bytes, out _, out ReadOnlySpan<byte> _));
    }

    [Fact]
    public void ReportsAnUnknownCodec()
    {
        var bytes = Encode(SampleHeader, [9]);
        bytes[3] = 200;

        Assert.Equal(EnvelopeReadResult.UnknownCodec, CacheValue.TryRead(bytes, out _, out ReadOnlySpan<byte> _));
    }

    [Fact]
    public void ReportsBytesThatAreNotAnEnvelopeAsCorrupt()
    {
        Assert.Equal(EnvelopeReadResult.Corrupt, CacheValue.TryRead("{\"id\":42}"u8, out _, out ReadOnlySpan<byte> _));
        Assert.Equal(EnvelopeReadResult.Corrupt, CacheValue.TryRead([], out _, out ReadOnlySpan<byte> _));
    }

    [Fact]
    public void ReportsEveryTruncationAsCorrupt()
    {
        var bytes = Encode(SampleHeader, TestPayloads.Random(50));

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Equal(EnvelopeReadResult.Corrupt, CacheValue.TryRead(bytes.AsSpan(0, length), out _, out ReadOnlySpan<byte> _));
        }
    }

    [Fact]
    public void ReportsTrailingBytesAsCorrupt()
    {
        var bytes = Encode(SampleHeader, [1, 2]);

        Assert.Equal(EnvelopeReadResult.Corrupt, CacheValue.TryRead([.. bytes, 0], out _, out ReadOnlySpan<byte> _));
    }

    [Fact]
    public void ReportsAHugeTagCountAsCorruptWithoutAllocatingForIt()
    {
        var bytes = Encode(SampleHeader with { DataType = "", Tags = [] }, []);
        var tagCountOffset = CacheValue.MinimumHeaderLength - 2;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(tagCountOffset), ushort.MaxValue);
        CacheValue.TryRead(bytes, out _, out ReadOnlySpan<byte> _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = CacheValue.TryRead(bytes, out _, out ReadOnlySpan<byte> _);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(EnvelopeReadResult.Corrupt, result);
        Assert.True(allocated < 256, $"allocated {allocated} bytes");
    }

    [Fact]
    public void ReportsAPayloadLengthOfTwoToTheThirtyOneAsCorrupt()
    {
        var bytes = Encode(SampleHeader with { DataType = "", Tags = [] }, [7]);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(CacheValue.MinimumHeaderLength - 6), int.MaxValue);

        Assert.Equal(EnvelopeReadResult.Corrupt, CacheValue.TryRead(bytes, out _, out ReadOnlySpan<byte> _));
    }

    [Fact]
    public void ReportsAnUncompressedPayloadWhoseLengthsDisagreeAsCorrupt()
    {
        var bytes = Encode(new CacheEnvelopeHeader(CompressionCodecId.None, "", 0, 0, 3, []), [1, 2, 3]);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(CacheValue.MinimumHeaderLength - 10), 4);

        Assert.Equal(EnvelopeReadResult.Corrupt, CacheValue.TryRead(bytes, out _, out ReadOnlySpan<byte> _));
    }

    [Fact]
    public void ReportsInvalidUtf8InATagAsCorrupt()
    {
        var bytes = Encode(SampleHeader with { Tags = ["abc"] }, []);
        bytes[^3] = 0xFF;

        Assert.Equal(EnvelopeReadResult.Corrupt, CacheValue.TryRead(bytes, out _, out ReadOnlySpan<byte> _));
    }

    [Fact]
    public void RefusesToWriteTooManyTags()
    {
        var tags = Enumerable.Range(0, CacheValue.MaxTagCount + 1).Select(i => $"t{i}").ToArray();

        var error = Assert.Throws<ArgumentException>(() => Encode(SampleHeader with { Tags = tags }, []));
        Assert.Contains("at most 128 tags", error.Message);
    }

    [Fact]
    public void RefusesToWriteAnEmptyTag()
    {
        var error = Assert.Throws<ArgumentException>(() => Encode(SampleHeader with { Tags = [""] }, []));
        Assert.Contains("Tag", error.Message);
    }

    [Fact]
    public void RefusesToWriteATagWithALoneSurrogateThatWouldNotReadBackTheSame()
    {
        var tag = "ab" + (char)0xD800;

        var error = Assert.Throws<ArgumentException>(() => Encode(SampleHeader with { Tags = [tag] }, []));
        Assert.Contains("lone surrogate", error.Message);
    }

    [Fact]
    public void RefusesToWriteAnOverlongDataType()
    {
        var error = Assert.Throws<ArgumentException>(() => Encode(SampleHeader with { DataType = new string('d', 65) }, []));
        Assert.Contains("DataType", error.Message);
    }

    [Fact]
    public void RefusesToWriteAnExpiryBeforeTheCreationTime()
    {
        var error = Assert.Throws<ArgumentException>(() => Encode(SampleHeader with { ExpiresAtUnixMilliseconds = 1 }, []));
        Assert.Contains("ExpiresAtUnixMilliseconds", error.Message);
    }

    [Fact]
    public void RefusesToWriteAnUncompressedPayloadWhoseLengthDisagrees()
    {
        var header = new CacheEnvelopeHeader(CompressionCodecId.None, "", 0, 0, 5, []);

        var error = Assert.Throws<ArgumentException>(() => Encode(header, [1]));
        Assert.Contains("UncompressedLength", error.Message);
    }

    [Fact]
    public void TellsWhetherTheEntryHasExpired()
    {
        Assert.False(SampleHeader.IsExpiredAt(SampleHeader.ExpiresAtUnixMilliseconds - 1));
        Assert.True(SampleHeader.IsExpiredAt(SampleHeader.ExpiresAtUnixMilliseconds));
    }

    [Fact]
    public void NeverThrowsNorOverAllocatesOnRandomBytes()
    {
        var random = new Random(20_240_601);
        var okCount = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var data = new byte[random.Next(0, 160)];
            random.NextBytes(data);
            if (data.Length >= 4 && random.Next(2) == 0)
            {
                // Half the inputs get a valid preamble so the fuzzing reaches the length and tag parsing.
                data[0] = 0xC0;
                data[1] = 0xCE;
                data[2] = CacheValue.FormatVersion;
                data[3] = (byte)random.Next(0, 5);
            }

            okCount += CheckRead(data) ? 1 : 0;
        }

        // Random bytes hardly ever form a whole envelope; the point is that none threw or over-allocated.
        Assert.True(okCount < 100, $"{okCount} random inputs read as Ok");
    }

    [Fact]
    public void NeverThrowsNorOverAllocatesOnMutatedEnvelopes()
    {
        var random = new Random(7_3_1);
        var seeds = new[]
        {
            Encode(SampleHeader, TestPayloads.Random(40)),
            Encode(SampleHeader with { Codec = CompressionCodecId.None, UncompressedLength = 3, Tags = ["a"] }, [1, 2, 3]),
            Encode(SampleHeader with { DataType = "", Tags = [] }, []),
        };

        var stillOk = 0;
        for (var i = 0; i < 30_000; i++)
        {
            var data = seeds[random.Next(seeds.Length)].ToList();
            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations && data.Count > 0; m++)
            {
                var at = random.Next(data.Count);
                switch (random.Next(4))
                {
                    case 0: data[at] = (byte)random.Next(256); break;
                    case 1: data[at] ^= (byte)(1 << random.Next(8)); break;
                    case 2: data.RemoveAt(at); break;
                    default: data.Insert(at, (byte)random.Next(256)); break;
                }
            }

            stillOk += CheckRead([.. data]) ? 1 : 0;
        }

        // Some mutations land in the payload or timestamps and leave a valid envelope; most must not.
        Assert.InRange(stillOk, 1, 29_999);
    }

    private static bool CheckRead(byte[] data)
    {
        // The first call for a given shape may allocate in the runtime (JIT, type loading); measure the second.
        CacheValue.TryRead(data, out _, out Range _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = CacheValue.TryRead(data, out var header, out Range range);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated <= 512 + (24L * data.Length), $"allocated {allocated} bytes for {data.Length} input bytes");
        if (result != EnvelopeReadResult.Ok)
        {
            Assert.Equal(default, header);
            return false;
        }

        var (offset, length) = range.GetOffsetAndLength(data.Length);
        Assert.Equal(data.Length, offset + length);
        Assert.InRange(header.Tags.Count, 0, CacheValue.MaxTagCount);
        Assert.True(header.ExpiresAtUnixMilliseconds >= header.CreatedAtUnixMilliseconds);
        Assert.True(header.Codec != CompressionCodecId.None || header.UncompressedLength == length);

        // Whatever reads as Ok must write back to the same bytes.
        Assert.Equal(data, Encode(header, data.AsSpan(offset, length)));
        return true;
    }

    private static byte[] Encode(in CacheEnvelopeHeader header, ReadOnlySpan<byte> payload)
    {
        var writer = new ArrayBufferWriter<byte>();
        CacheValue.Write(writer, header, payload);
        return writer.WrittenSpan.ToArray();
    }
}
