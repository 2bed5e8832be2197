using OptimizedCache.Cache.Core.Internal.Invalidation;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

public sealed class InvalidationMessageTests
{
    [Fact]
    public void RoundTripsEveryKind()
    {
        var sender = Guid.NewGuid();
        foreach (var (kind, items) in new (InvalidationKind, string[])[]
        {
            (InvalidationKind.Key, ["product:1", "product:2", "ключ"]),
            (InvalidationKind.Tag, ["catalog:products"]),
            (InvalidationKind.Pattern, ["product:*"]),
            (InvalidationKind.All, []),
            (InvalidationKind.Overwrite, ["product:3"]),
        })
        {
            var encoded = Assert.Single(InvalidationMessage.Encode(kind, sender, 638_000_000_000_000_000, items));
            Assert.True(InvalidationMessage.TryDecode(encoded, out var decoded));
            Assert.Equal(kind, decoded!.Kind);
            Assert.Equal(sender, decoded.Sender);
            Assert.Equal(638_000_000_000_000_000, decoded.UtcTicks);
            Assert.Equal(items, decoded.Items);
        }
    }

    [Fact]
    public void SplitsLargeBatchesIntoBoundedMessages()
    {
        var keys = Enumerable.Range(0, 20_000).Select(i => "product:" + i).ToArray();
        var messages = InvalidationMessage.Encode(InvalidationKind.Key, Guid.NewGuid(), 1, keys);
        Assert.True(messages.Count > 1);
        Assert.All(messages, m => Assert.InRange(m.Length, 1, InvalidationMessage.MaximumBytes));
        var decoded = messages.SelectMany(m => InvalidationMessage.TryDecode(m, out var d) ? d!.Items : throw new Xunit.Sdk.XunitException("undecodable")).ToArray();
        Assert.Equal(keys, decoded);
    }

    [Fact]
    public void RejectsEveryTruncationAndAnyTrailingByte()
    {
        var encoded = InvalidationMessage.Encode(InvalidationKind.Tag, Guid.NewGuid(), 5, ["a", "bc"])[0];
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.False(InvalidationMessage.TryDecode(encoded.AsSpan(0, length), out _));
        }

        Assert.False(InvalidationMessage.TryDecode([.. encoded, 0], out _));
    }

    [Fact]
    public void RejectsUnknownVersionsKindsAndInvalidText()
    {
        var encoded = InvalidationMessage.Encode(InvalidationKind.Key, Guid.NewGuid(), 5, ["ab"])[0];
        var version = encoded.ToArray();
        version[0] = 2;
        var kind = encoded.ToArray();
        kind[1] = 9;
        var utf8 = encoded.ToArray();
        utf8[^1] = 0xFF;
        Assert.False(InvalidationMessage.TryDecode(version, out _));
        Assert.False(InvalidationMessage.TryDecode(kind, out _));
        Assert.False(InvalidationMessage.TryDecode(utf8, out _));
        Assert.False(InvalidationMessage.TryDecode(new byte[InvalidationMessage.MaximumBytes + 1], out _));
    }

    [Fact]
    public void NeverThrowsOnRandomBytes()
    {
        var random = new Random(5);
        var valid = InvalidationMessage.Encode(InvalidationKind.Key, Guid.NewGuid(), 5, ["product:1", "product:2"])[0];
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = i % 2 == 0 ? new byte[random.Next(0, 80)] : valid.ToArray();
            if (i % 2 == 0)
            {
                random.NextBytes(bytes);
            }
            else
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            InvalidationMessage.TryDecode(bytes, out _);
        }
    }
}
