using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Writes and reads the envelope stored in front of every L2 payload: a small, versioned binary header
/// (<see cref="CacheEnvelopeHeader"/>) followed by the payload bytes.
/// </summary>
/// <remarks>
/// <para>Layout of format version 1, little-endian, no padding:</para>
/// <code>
/// offset  size  field
///  0       2    magic 0xC0 0xCE
///  2       1    format version (1)
///  3       1    codec id (CompressionCodecId)
///  4       1    data-type length D (0..MaxDataTypeBytes)
///  5       D    data type, UTF-8
///  .       8    created-at, Unix ms
///  .       8    expires-at, Unix ms
///  .       4    uncompressed length
///  .       4    stored payload length P
///  .       2    tag count T (0..MaxTagCount)
///  .     T×(2+L) tag: length L (1..MaxTagBytes), then L bytes of UTF-8
///  .       P    payload
/// </code>
/// <para>
/// Reading never throws on bad input and never allocates more than the input can justify: every length is
/// checked against both its bound and the bytes that remain before anything is allocated, and an envelope
/// must end exactly where its payload ends. A newer replica that changes the layout bumps the version, which
/// older replicas read as <see cref="EnvelopeReadResult.UnknownVersion"/> (a miss), never as garbage.
/// </para>
/// </remarks>
internal static class CacheValue
{
    /// <summary>The format version this build writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The most UTF-8 bytes a data type may take.</summary>
    public const int MaxDataTypeBytes = 64;

    /// <summary>The most tags one entry may carry.</summary>
    public const int MaxTagCount = 128;

    /// <summary>The most UTF-8 bytes one tag may take.</summary>
    public const int MaxTagBytes = 1024;

    /// <summary>The size of the header when the data type is empty and there are no tags.</summary>
    public const int MinimumHeaderLength = 2 + 1 + 1 + 1 + 8 + 8 + 4 + 4 + 2;

    private const byte Magic0 = 0xC0;
    private const byte Magic1 = 0xCE;
    private const CompressionCodecId HighestKnownCodec = CompressionCodecId.Deflate;

    /// <summary>Returns how many bytes <see cref="Write"/> will produce for this header and payload length.</summary>
    /// <param name="header">The header to encode; validated as in <see cref="Write"/>.</param>
    /// <param name="payloadLength">The stored (possibly compressed) payload length.</param>
    /// <returns>The envelope's total length in bytes.</returns>
    /// <exception cref="ArgumentException">The header violates a bound of the format.</exception>
    public static int GetEncodedLength(in CacheEnvelopeHeader header, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        return checked(MeasureHeader(header) + payloadLength);
    }

    /// <summary>Writes the envelope (header then payload) to <paramref name="writer"/>.</summary>
    /// <param name="writer">The destination; receives exactly the returned number of bytes in one span.</param>
    /// <param name="header">The entry's metadata.</param>
    /// <param name="payload">The stored payload, already compressed with <see cref="CacheEnvelopeHeader.Codec"/>.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">
    /// The header violates a bound of the format (data type or tag too long, too many tags, an empty or
    /// ill-formed tag, an unknown codec, negative times or lengths, expiry before creation, or an uncompressed
    /// length that differs from the payload length for an uncompressed payload). The message names the value.
    /// </exception>
    public static int Write(IBufferWriter<byte> writer, in CacheEnvelopeHeader header, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (header.Codec == CompressionCodecId.None && header.UncompressedLength != payload.Length)
        {
            throw new ArgumentException(
                $"An uncompressed payload's UncompressedLength ({header.UncompressedLength}) must equal its length ({payload.Length}).",
                nameof(header));
        }

        var headerLength = MeasureHeader(header);
        var total = checked(headerLength + payload.Length);
        var span = writer.GetSpan(total)[..total];

        span[0] = Magic0;
        span[1] = Magic1;
        span[2] = FormatVersion;
        span[3] = (byte)header.Codec;
        var offset = 4;
        offset += WriteShortString(span[offset..], header.DataType ?? string.Empty, lengthBytes: 1);
        BinaryPrimitives.WriteInt64LittleEndian(span[offset..], header.CreatedAtUnixMilliseconds);
        offset += 8;
        BinaryPrimitives.WriteInt64LittleEndian(span[offset..], header.ExpiresAtUnixMilliseconds);
        offset += 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], header.UncompressedLength);
        offset += 4;
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], payload.Length);
        offset += 4;
        var tags = header.Tags ?? [];
        BinaryPrimitives.WriteUInt16LittleEndian(span[offset..], (ushort)tags.Count);
        offset += 2;
        for (var i = 0; i < tags.Count; i++)
        {
            offset += WriteShortString(span[offset..], tags[i], lengthBytes: 2);
        }

        payload.CopyTo(span[offset..]);
        writer.Advance(total);
        return total;
    }

    /// <summary>Reads an envelope; never throws on malformed input.</summary>
    /// <param name="data">The bytes read from L2.</param>
    /// <param name="header">The decoded header when the result is <see cref="EnvelopeReadResult.Ok"/>; otherwise default.</param>
    /// <param name="payload">The stored payload inside <paramref name="data"/> when the result is <see cref="EnvelopeReadResult.Ok"/>; otherwise empty.</param>
    /// <returns>Whether the envelope was readable, and if not, why.</returns>
    public static EnvelopeReadResult TryRead(ReadOnlySpan<byte> data, out CacheEnvelopeHeader header, out ReadOnlySpan<byte> payload)
    {
        var result = TryRead(data, out header, out Range range);
        payload = result == EnvelopeReadResult.Ok ? data[range] : default;
        return result;
    }

    /// <summary>Reads an envelope; never throws on malformed input.</summary>
    /// <param name="data">The bytes read from L2.</param>
    /// <param name="header">The decoded header when the result is <see cref="EnvelopeReadResult.Ok"/>; otherwise default.</param>
    /// <param name="payload">
    /// Where the stored payload lies in <paramref name="data"/> when the result is <see cref="EnvelopeReadResult.Ok"/>
    /// (useful to slice a <see cref="ReadOnlyMemory{T}"/> that outlives the call); otherwise an empty range.
    /// </param>
    /// <param name="knownDataType">
    /// The data type the reader expects (its key's): when the envelope's data type is the same text, this string is
    /// used instead of decoding another copy. Null decodes it as is.
    /// </param>
    /// <returns>Whether the envelope was readable, and if not, why.</returns>
    public static EnvelopeReadResult TryRead(ReadOnlySpan<byte> data, out CacheEnvelopeHeader header, out Range payload, string? knownDataType = null)
    {
        header = default;
        payload = default;
        if (data.Length < 4 || data[0] != Magic0 || data[1] != Magic1)
        {
            return EnvelopeReadResult.Corrupt;
        }

        if (data[2] != FormatVersion)
        {
            return EnvelopeReadResult.UnknownVersion;
        }

        var codec = (CompressionCodecId)data[3];
        if (codec > HighestKnownCodec)
        {
            return EnvelopeReadResult.UnknownCodec;
        }

        if (data.Length < MinimumHeaderLength)
        {
            return EnvelopeReadResult.Corrupt;
        }

        var offset = 4;
        int dataTypeLength = data[offset++];
        if (dataTypeLength > MaxDataTypeBytes || data.Length - offset < dataTypeLength + (MinimumHeaderLength - 5))
        {
            return EnvelopeReadResult.Corrupt;
        }

        var dataTypeBytes = data.Slice(offset, dataTypeLength);
        string dataType;
        if (knownDataType is not null && Ascii.Equals(dataTypeBytes, knownDataType))
        {
            dataType = knownDataType;
        }
        else if (!TryDecodeUtf8(dataTypeBytes, out dataType))
        {
            return EnvelopeReadResult.Corrupt;
        }

        offset += dataTypeLength;
        var createdAt = BinaryPrimitives.ReadInt64LittleEndian(data[offset..]);
        offset += 8;
        var expiresAt = BinaryPrimitives.ReadInt64LittleEndian(data[offset..]);
        offset += 8;
        var uncompressedLength = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        offset += 4;
        var payloadLength = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        offset += 4;
        int tagCount = BinaryPrimitives.ReadUInt16LittleEndian(data[offset..]);
        offset += 2;

        if (createdAt < 0 || expiresAt < createdAt || uncompressedLength < 0 || payloadLength < 0
            || (codec == CompressionCodecId.None && uncompressedLength != payloadLength)
            || tagCount > MaxTagCount
            // Each tag needs at least its 2-byte length and one byte, so the count alone can be checked
            // against what remains before the array is allocated.
            || (long)tagCount * 3 + payloadLength > data.Length - offset)
        {
            return EnvelopeReadResult.Corrupt;
        }

        var tags = tagCount == 0 ? [] : new string[tagCount];
        for (var i = 0; i < tagCount; i++)
        {
            if (data.Length - offset < 2)
            {
                return EnvelopeReadResult.Corrupt;
            }

            int tagLength = BinaryPrimitives.ReadUInt16LittleEndian(data[offset..]);
            offset += 2;
            if (tagLength == 0 || tagLength > MaxTagBytes || data.Length - offset < tagLength
                || !TryDecodeUtf8(data.Slice(offset, tagLength), out tags[i]))
            {
                return EnvelopeReadResult.Corrupt;
            }

            offset += tagLength;
        }

        if (data.Length - offset != payloadLength)
        {
            return EnvelopeReadResult.Corrupt;
        }

        header = new CacheEnvelopeHeader(codec, dataType, createdAt, expiresAt, uncompressedLength, tags);
        payload = new Range(offset, data.Length);
        return EnvelopeReadResult.Ok;
    }

    private static int MeasureHeader(in CacheEnvelopeHeader header)
    {
        if (header.Codec > HighestKnownCodec)
        {
            throw new ArgumentException($"Codec id {(byte)header.Codec} is not a known codec.", nameof(header));
        }

        if (header.CreatedAtUnixMilliseconds < 0)
        {
            throw new ArgumentException($"CreatedAtUnixMilliseconds ({header.CreatedAtUnixMilliseconds}) must not be negative.", nameof(header));
        }

        if (header.ExpiresAtUnixMilliseconds < header.CreatedAtUnixMilliseconds)
        {
            throw new ArgumentException(
                $"ExpiresAtUnixMilliseconds ({header.ExpiresAtUnixMilliseconds}) must not be earlier than CreatedAtUnixMilliseconds ({header.CreatedAtUnixMilliseconds}).",
                nameof(header));
        }

        if (header.UncompressedLength < 0)
        {
            throw new ArgumentException($"UncompressedLength ({header.UncompressedLength}) must not be negative.", nameof(header));
        }

        var length = MinimumHeaderLength + MeasureUtf8(header.DataType ?? string.Empty, "DataType", MaxDataTypeBytes, allowEmpty: true);
        var tags = header.Tags ?? [];
        if (tags.Count > MaxTagCount)
        {
            throw new ArgumentException($"An entry may carry at most {MaxTagCount} tags; this one has {tags.Count}.", nameof(header));
        }

        for (var i = 0; i < tags.Count; i++)
        {
            length += 2 + MeasureUtf8(tags[i], "Tag", MaxTagBytes, allowEmpty: false);
        }

        return length;
    }

    private static int MeasureUtf8(string? value, string what, int maxBytes, bool allowEmpty)
    {
        if (value is null || (!allowEmpty && value.Length == 0))
        {
            throw new ArgumentException($"{what} must not be null or empty.", "header");
        }

        // Values are not quoted in messages: tags and data types may be derived from keys.
        // A string with a lone surrogate would be written with a replacement character and read back as a
        // different string; refusing it keeps the round trip exact.
        Span<byte> scratch = stackalloc byte[256];
        var count = 0;
        var remaining = value.AsSpan();
        while (!remaining.IsEmpty)
        {
            var status = Utf8.FromUtf16(remaining, scratch, out var read, out var written, replaceInvalidSequences: false, isFinalBlock: true);
            if (status == System.Buffers.OperationStatus.InvalidData)
            {
                throw new ArgumentException($"{what} ({value.Length} chars) is not well-formed UTF-16 (it holds a lone surrogate).", "header");
            }

            count += written;
            remaining = remaining[read..];
            if (count > maxBytes)
            {
                break;
            }
        }

        if (count > maxBytes)
        {
            throw new ArgumentException($"{what} ({value.Length} chars) is longer than {maxBytes} UTF-8 bytes.", "header");
        }

        return count;
    }

    private static int WriteShortString(Span<byte> destination, string value, int lengthBytes)
    {
        var written = Encoding.UTF8.GetBytes(value, destination[lengthBytes..]);
        if (lengthBytes == 1)
        {
            destination[0] = (byte)written;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)written);
        }

        return lengthBytes + written;
    }

    private static bool TryDecodeUtf8(ReadOnlySpan<byte> bytes, out string value)
    {
        if (bytes.IsEmpty)
        {
            value = string.Empty;
            return true;
        }

        if (!Utf8.IsValid(bytes))
        {
            value = string.Empty;
            return false;
        }

        value = Encoding.UTF8.GetString(bytes);
        return true;
    }
}
