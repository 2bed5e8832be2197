using System.Buffers;
using Microsoft.Extensions.Logging;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class CompressionCodecRegistryTests
{
    [Fact]
    public void ReportsEveryBuiltInCodecAvailableOnTheBuildMachine()
    {
        var logger = new RecordingLogger();

        var registry = CompressionCodecRegistry.CreateDefault(1024 * 1024, logger);

        Assert.Equal(["lz4", "zstd", "brotli", "deflate"], registry.Available.Select(c => c.Name));
        var entry = Assert.Single(logger.Entries);
        Assert.Equal(Log.CompressionCodecsAvailableEventId, entry.EventId.Id);
        Assert.Equal("Compression codecs available: lz4, zstd, brotli, deflate", entry.Message);
    }

    [Fact]
    public void LogsAMissingCodecAtStartUpAndNeverHandsItOut()
    {
        var logger = new RecordingLogger();

        var registry = TestCodecs.Registry(logger, CompressionCodecId.Zstd);

        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal(Log.CompressionCodecUnavailableEventId, warning.EventId.Id);
        Assert.Contains("zstd", warning.Message);
        Assert.Contains("libzstd-test.so.1 could not be loaded", warning.Message);
        Assert.False(registry.IsAvailable(CompressionCodecId.Zstd));
        Assert.False(registry.TryGet(CompressionCodecId.Zstd, out _));
        Assert.DoesNotContain(registry.Available, c => c.Id == CompressionCodecId.Zstd);
        Assert.Contains(registry.All, c => c.Id == CompressionCodecId.Zstd);
    }

    [Fact]
    public void ReadsAnEntryWrittenWithAMissingCodecAsUnavailable()
    {
        var registry = TestCodecs.Registry(null, CompressionCodecId.Lz4);
        var writer = new ArrayBufferWriter<byte>();

        var status = registry.Decompress(CompressionCodecId.Lz4, [1, 2, 3], 10, writer);

        Assert.Equal(DecompressionStatus.CodecUnavailable, status);
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public void DecompressesWithTheCodecNamedByTheEnvelope()
    {
        var registry = TestCodecs.Registry();
        var source = TestPayloads.JsonLike(5000);
        var compressed = new ArrayBufferWriter<byte>();
        new ZstdCodec().Compress(source, compressed);
        var restored = new ArrayBufferWriter<byte>();

        Assert.Equal(DecompressionStatus.Ok, registry.Decompress(CompressionCodecId.Zstd, compressed.WrittenSpan, source.Length, restored));
        Assert.Equal(source, restored.WrittenSpan.ToArray());
    }

    [Fact]
    public void RefusesADeclaredLengthOverTheMaximumBeforeAllocating()
    {
        var registry = TestCodecs.Registry();
        var writer = new ArrayBufferWriter<byte>(16);
        registry.Decompress(CompressionCodecId.Lz4, [0], int.MaxValue, writer);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var status = registry.Decompress(CompressionCodecId.Lz4, [0], int.MaxValue, writer);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(DecompressionStatus.TooLarge, status);
        Assert.True(allocated < 1024, $"allocated {allocated} bytes");
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public void ReportsCorruptInputWithoutAdvancingTheDestination()
    {
        var registry = TestCodecs.Registry();
        var writer = new ArrayBufferWriter<byte>();

        Assert.Equal(DecompressionStatus.Corrupt, registry.Decompress(CompressionCodecId.Brotli, TestPayloads.Random(64), 1000, writer));
        Assert.Equal(DecompressionStatus.Corrupt, registry.Decompress(CompressionCodecId.None, [1, 2], 3, writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public void CopiesAnUncompressedPayload()
    {
        var registry = TestCodecs.Registry();
        var writer = new ArrayBufferWriter<byte>();

        Assert.Equal(DecompressionStatus.Ok, registry.Decompress(CompressionCodecId.None, [1, 2, 3], 3, writer));
        Assert.Equal(new byte[] { 1, 2, 3 }, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void RefusesTwoCodecsWithOneId()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new CompressionCodecRegistry([new BrotliCodec(), new BrotliCodec()], 1024, new RecordingLogger()));

        Assert.Contains("brotli", error.Message);
    }
}
