using System.Globalization;
using System.Text;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// A parsed RESP2 value: a simple string, an error, an integer, a bulk string (possibly nil) or an array
/// (possibly nil, elements possibly nested). Bulk strings own their bytes.
/// </summary>
public readonly struct RedisReply : IEquatable<RedisReply>
{
    private static readonly RedisReply[] EmptyArray = [];

    // SimpleString and Error: string; BulkString: byte[]; Array: RedisReply[]; nil: null. A bulk string read into a
    // pooled array (PooledBulkString) holds its length + 1 in _integer; otherwise _integer is 0 for a bulk string.
    private readonly object? _value;
    private readonly long _integer;

    private RedisReply(RedisReplyKind kind, object? value, long integer)
    {
        Kind = kind;
        _value = value;
        _integer = integer;
    }

    /// <summary>The RESP2 type.</summary>
    public RedisReplyKind Kind { get; }

    /// <summary>Whether this is a nil bulk string (<c>$-1</c>) or a nil array (<c>*-1</c>).</summary>
    public bool IsNull => _value is null && Kind is RedisReplyKind.BulkString or RedisReplyKind.Array;

    /// <summary>Whether the server answered with an error.</summary>
    public bool IsError => Kind == RedisReplyKind.Error;

    /// <summary>The error text, for <see cref="RedisReplyKind.Error"/>; otherwise null.</summary>
    public string? ErrorMessage => Kind == RedisReplyKind.Error ? (string?)_value : null;

    /// <summary>The elements of an array (empty for a nil array).</summary>
    /// <exception cref="InvalidOperationException">This is not an array.</exception>
    public IReadOnlyList<RedisReply> Elements => Kind == RedisReplyKind.Array
        ? (RedisReply[]?)_value ?? EmptyArray
        : throw new InvalidOperationException($"A {Kind} reply has no elements.");

    /// <summary>Creates a simple-string reply.</summary>
    /// <param name="value">The text.</param>
    public static RedisReply SimpleString(string value) => new(RedisReplyKind.SimpleString, value, 0);

    /// <summary>Creates an error reply.</summary>
    /// <param name="message">The error text.</param>
    public static RedisReply Error(string message) => new(RedisReplyKind.Error, message, 0);

    /// <summary>Creates an integer reply.</summary>
    /// <param name="value">The integer.</param>
    public static RedisReply Integer(long value) => new(RedisReplyKind.Integer, null, value);

    /// <summary>Creates a bulk-string reply; null is nil.</summary>
    /// <param name="value">The bytes (owned by the reply), or null.</param>
    public static RedisReply BulkString(byte[]? value) => new(RedisReplyKind.BulkString, value, 0);

    /// <summary>
    /// A bulk string read into an array rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/> (only its first
    /// <paramref name="length"/> bytes are the value). Whoever takes it with <see cref="TryTakeLease"/> returns the
    /// array; every other accessor copies the value out, so a reply nobody takes the lease of is merely collected.
    /// </summary>
    internal static RedisReply PooledBulkString(byte[] rented, int length) => new(RedisReplyKind.BulkString, rented, length + 1L);

    /// <summary>The rented array and the value's length of a <see cref="PooledBulkString"/> reply; false for any other reply.</summary>
    internal bool TryTakeLease(out byte[] rented, out int length)
    {
        if (Kind == RedisReplyKind.BulkString && _integer > 0 && _value is byte[] array)
        {
            rented = array;
            length = (int)(_integer - 1);
            return true;
        }

        rented = null!;
        length = 0;
        return false;
    }

    // The value of a bulk string, pooled or not (empty for nil).
    private ReadOnlySpan<byte> Bulk => _value is byte[] bytes ? (_integer > 0 ? bytes.AsSpan(0, (int)(_integer - 1)) : bytes) : default;

    /// <summary>Creates an array reply; null is nil.</summary>
    /// <param name="elements">The elements (owned by the reply), or null.</param>
    public static RedisReply Array(RedisReply[]? elements) => new(RedisReplyKind.Array, elements, 0);

    /// <summary>The integer value: an integer reply, or a bulk/simple string holding a decimal integer.</summary>
    /// <exception cref="InvalidCastException">The reply is not an integer.</exception>
    public long AsInt64()
    {
        switch (Kind)
        {
            case RedisReplyKind.Integer:
                return _integer;
            case RedisReplyKind.BulkString when _value is byte[]
                && System.Buffers.Text.Utf8Parser.TryParse(Bulk, out long parsed, out var used) && used == Bulk.Length:
                return parsed;
            case RedisReplyKind.SimpleString when long.TryParse((string)_value!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n):
                return n;
            default:
                throw new InvalidCastException($"A {Kind} reply ({this}) is not an integer.");
        }
    }

    /// <summary>The bytes of a bulk string (null for nil), or the UTF-8 bytes of a simple string.</summary>
    /// <exception cref="InvalidCastException">The reply is an integer, an error or an array.</exception>
    public byte[]? AsBytes() => Kind switch
    {
        RedisReplyKind.BulkString => _integer > 0 ? Bulk.ToArray() : (byte[]?)_value,
        RedisReplyKind.SimpleString => Encoding.UTF8.GetBytes((string)_value!),
        _ => throw new InvalidCastException($"A {Kind} reply is not a string."),
    };

    /// <summary>The text of a simple or bulk string (UTF-8; null for nil), or an integer in decimal.</summary>
    /// <exception cref="InvalidCastException">The reply is an error or an array.</exception>
    public string? AsString() => Kind switch
    {
        RedisReplyKind.BulkString => _value is byte[] ? Encoding.UTF8.GetString(Bulk) : null,
        RedisReplyKind.SimpleString => (string)_value!,
        RedisReplyKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        _ => throw new InvalidCastException($"A {Kind} reply is not a string."),
    };

    /// <summary>Throws <see cref="RedisServerException"/> when this is an error reply.</summary>
    /// <param name="command">The command, for the message.</param>
    /// <returns>This reply.</returns>
    public RedisReply ThrowIfError(string command) =>
        Kind == RedisReplyKind.Error ? throw new RedisServerException(command, (string)_value!) : this;

    /// <inheritdoc />
    public bool Equals(RedisReply other)
    {
        if (Kind != other.Kind || IsNull != other.IsNull)
        {
            return false;
        }

        return Kind switch
        {
            RedisReplyKind.Integer => _integer == other._integer,
            RedisReplyKind.SimpleString or RedisReplyKind.Error => string.Equals((string?)_value, (string?)other._value, StringComparison.Ordinal),
            RedisReplyKind.BulkString => IsNull || Bulk.SequenceEqual(other.Bulk),
            _ => IsNull || ((RedisReply[])_value!).AsSpan().SequenceEqual((RedisReply[])other._value!),
        };
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RedisReply other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, Kind == RedisReplyKind.BulkString ? 0 : _integer, Bulk.Length);

    /// <summary>Whether two replies are equal (deep).</summary>
    /// <param name="left">A reply.</param>
    /// <param name="right">Another reply.</param>
    public static bool operator ==(RedisReply left, RedisReply right) => left.Equals(right);

    /// <summary>Whether two replies differ (deep).</summary>
    /// <param name="left">A reply.</param>
    /// <param name="right">Another reply.</param>
    public static bool operator !=(RedisReply left, RedisReply right) => !left.Equals(right);

    /// <summary>A short description for diagnostics: kind and size, never the content of a bulk string.</summary>
    public override string ToString() => Kind switch
    {
        RedisReplyKind.Integer => $"Integer {_integer.ToString(CultureInfo.InvariantCulture)}",
        RedisReplyKind.SimpleString => $"SimpleString {(string)_value!}",
        RedisReplyKind.Error => $"Error {(string)_value!}",
        RedisReplyKind.BulkString => _value is byte[] ? $"BulkString ({Bulk.Length} bytes)" : "BulkString nil",
        _ => _value is RedisReply[] a ? $"Array ({a.Length} elements)" : "Array nil",
    };
}
