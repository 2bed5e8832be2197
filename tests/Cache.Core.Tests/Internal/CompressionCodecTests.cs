using System.Buffers;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class CompressionCodecTests
{
    private static readonly string[] CodecNames = ["lz4", "zstd", "brotli", "deflate"];

    public static readonly TheoryData<string> Codecs = new(CodecNames);

    public static TheoryData<string, int, bool> RoundTrips()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (var codec in CodecNames)
        {
            foreach (var size in new[] { 0, 1, 100, 1024, 10 * 1024, 100 * 1024, 1000 * 1024 })
            {
                data.Add(codec, size, false);
                data.Add(codec, size, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void IsAvailableOnTheBuildMachine(string name)
    {
        var codec = TestCodecs.Create(name);

        Assert.True(codec.IsAvailable, $"{name}: {codec.UnavailableReason}");
        Assert.Null(codec.UnavailableReason);
        Assert.Equal(name, codec.Name);
    }

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void RoundTripsEverySizeClass(string name, int size, bool random)
    {
        var codec = TestCodecs.Create(name);
        var source = random ? TestPayloads.Random(size) : TestPayloads.JsonLike(size);
        var compressed = new ArrayBufferWriter<byte>();

        var written = codec.Compress(source, compressed);

        Assert.Equal(compressed.WrittenCount, written);
        if (!random && size >= 1024)
        {
            Assert.True(written < size / 2, $"{name} compressed {size} JSON-like bytes only to {written}");
        }

        var restored = new byte[size];
        Assert.True(codec.TryDecompress(compressed.WrittenSpan, size, restored));
        Assert.Equal(source, restored);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void RejectsGarbage(string name)
    {
        var codec = TestCodecs.Create(name);
        var garbage = TestPayloads.Random(100, seed: 5);

        Assert.False(codec.TryDecompress(garbage, 1000, new byte[1000]));
        Assert.False(codec.TryDecompress([], 10, new byte[10]));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void RejectsATruncatedInput(string name)
    {
        var codec = TestCodecs.Create(name);
        var source = TestPayloads.JsonLike(10 * 1024);
        var compressed = Compress(codec, source);

        foreach (var length in new[] { 1, compressed.Length / 2, compressed.Length - 1 })
        {
            Assert.False(codec.TryDecompress(compressed.AsSpan(0, length), source.Length, new byte[source.Length]), $"truncated to {length}");
        }
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void RejectsADeclaredLengthOtherThanTheRealOne(string name)
    {
        var codec = TestCodecs.Create(name);
        var source = TestPayloads.JsonLike(4096);
        var compressed = Compress(codec, source);

        Assert.False(codec.TryDecompress(compressed, source.Length - 1, new byte[source.Length + 10]));
        Assert.False(codec.TryDecompress(compressed, source.Length + 1, new byte[source.Length + 10]));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void NeverThrowsNorWritesPastTheDeclaredLengthOnCorruptedInput(string name)
    {
        var codec = TestCodecs.Create(name);
        var source = TestPayloads.JsonLike(8 * 1024);
        var compressed = Compress(codec, source);
        var random = new Random(17);
        var destination = new byte[source.Length + 64];

        for (var i = 0; i < 300; i++)
        {
            var corrupted = (byte[])compressed.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                corrupted[random.Next(corrupted.Length)] ^= (byte)(1 << random.Next(8));
            }

            destination.AsSpan(source.Length).Fill(0xAA);
            codec.TryDecompress(corrupted, source.Length, destination);

            Assert.All(destination[source.Length..], b => Assert.Equal(0xAA, b));
        }
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void RefusesADestinationShorterThanTheDeclaredLength(string name)
    {
        var codec = TestCodecs.Create(name);

        var error = Assert.Throws<ArgumentException>(() => codec.TryDecompress([1, 2, 3], 10, new byte[9]));
        Assert.Equal("destination", error.ParamName);
    }

    private static byte[] Compress(ICompressionCodec codec, byte[] source)
    {
        var writer = new ArrayBufferWriter<byte>();
        codec.Compress(source, writer);
        return writer.WrittenSpan.ToArray();
    }
}
