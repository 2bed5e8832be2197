using System.Buffers;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.Internal;

/// <summary>
/// Entries written by the previous build, which called the system's liblz4 and libzstd, still decode: the bytes in
/// TestData/legacy-codecs were written by that code (LZ4 blocks, Zstandard frames), the empty payload included. And the
/// managed codecs write what that code read: the same bytes for LZ4's empty input, frames a native decoder accepts.
/// </summary>
public sealed class LegacyCodecTests
{
    private static readonly Dictionary<string, byte[]> Payloads = new()
    {
        ["empty"] = [],
        ["one-byte"] = [0x7b],
        ["json-1k"] = TestPayloads.JsonLike(1024),
        ["json-64k"] = TestPayloads.JsonLike(65536, seed: 3),
        ["random-4k"] = TestPayloads.Random(4096),
    };

    public static TheoryData<string, string> Vectors
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var codec in new[] { "lz4", "zstd" })
            {
                foreach (var payload in Payloads.Keys)
                {
                    data.Add(codec, payload);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void WhatTheNativeLibrariesWroteDecodesToTheOriginal(string codec, string payload)
    {
        var stored = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "legacy-codecs", $"{codec}-{payload}.bin"));
        var expected = Payloads[payload];
        var restored = new byte[expected.Length];

        Assert.True(TestCodecs.Create(codec).TryDecompress(stored, expected.Length, restored));
        Assert.Equal(expected, restored);
        Assert.False(TestCodecs.Create(codec).TryDecompress(stored, expected.Length + 1, new byte[expected.Length + 1]), "a wrong declared length must not decode");
    }

    [Fact]
    public void Lz4WritesTheEmptyInputAsTheNativeLibraryDid()
    {
        var writer = new ArrayBufferWriter<byte>();
        new Lz4Codec().Compress([], writer);
        Assert.Equal(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "legacy-codecs", "lz4-empty.bin")), writer.WrittenSpan.ToArray());
        Assert.False(new Lz4Codec().TryDecompress([], 0, []), "an empty stored payload is not a valid LZ4 block");
    }

    // Larger inputs may compress to other (equally valid) frames: the port and the system's libzstd differ in version.
    [Theory]
    [InlineData("json-1k")]
    [InlineData("one-byte")]
    [InlineData("empty")]
    public void SmallZstandardFramesMatchTheNativeLibrarysAtTheSameLevel(string payload)
    {
        var writer = new ArrayBufferWriter<byte>();
        new ZstdCodec().Compress(Payloads[payload], writer);
        Assert.Equal(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "legacy-codecs", $"zstd-{payload}.bin")), writer.WrittenSpan.ToArray());
    }
}
