using System.Globalization;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// One argument of a command: a string (sent as UTF-8), an integer (sent in decimal) or bytes. Converts implicitly,
/// so <c>ExecuteAsync("HSET", ["h", "field", 42])</c> reads naturally; a struct, so nothing is boxed.
/// </summary>
public readonly struct RedisArg
{
    private readonly string? _string;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _integer;

    private RedisArg(RedisArgKind kind, string? text, ReadOnlyMemory<byte> bytes, long integer)
    {
        Kind = kind;
        _string = text;
        _bytes = bytes;
        _integer = integer;
    }

    internal RedisArgKind Kind { get; }

    internal string String => _string!;

    internal ReadOnlyMemory<byte> Bytes => _bytes;

    internal long Integer => _integer;

    /// <summary>A string argument, sent as UTF-8.</summary>
    /// <param name="value">The text; null is not allowed.</param>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public static implicit operator RedisArg(string value) =>
        new(RedisArgKind.String, value ?? throw new ArgumentNullException(nameof(value)), default, 0);

    /// <summary>An integer argument, sent in decimal.</summary>
    /// <param name="value">The integer.</param>
    public static implicit operator RedisArg(long value) => new(RedisArgKind.Integer, null, default, value);

    /// <summary>A bytes argument, sent as is.</summary>
    /// <param name="value">The bytes.</param>
    public static implicit operator RedisArg(ReadOnlyMemory<byte> value) => new(RedisArgKind.Bytes, null, value, 0);

    /// <summary>A bytes argument, sent as is.</summary>
    /// <param name="value">The bytes; null is not allowed.</param>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public static implicit operator RedisArg(byte[] value) =>
        new(RedisArgKind.Bytes, null, value ?? throw new ArgumentNullException(nameof(value)), 0);

    /// <summary>A string argument (for languages without implicit conversions).</summary>
    /// <param name="value">The text.</param>
    public static RedisArg FromString(string value) => value;

    /// <summary>An integer argument (for languages without implicit conversions).</summary>
    /// <param name="value">The integer.</param>
    public static RedisArg FromInt64(long value) => value;

    /// <summary>A bytes argument (for languages without implicit conversions).</summary>
    /// <param name="value">The bytes.</param>
    public static RedisArg FromReadOnlyMemory(ReadOnlyMemory<byte> value) => value;

    /// <summary>A bytes argument (for languages without implicit conversions).</summary>
    /// <param name="value">The bytes.</param>
    public static RedisArg FromByteArray(byte[] value) => value;

    /// <summary>
    /// A string sent as the UTF-8 bytes <paramref name="prefix"/> followed by <paramref name="text"/>'s UTF-8, as one
    /// argument: a prefixed key without building the concatenated string.
    /// </summary>
    internal static RedisArg Prefixed(ReadOnlyMemory<byte> prefix, string text) => new(RedisArgKind.PrefixedString, text, prefix, 0);

    /// <summary>The argument's kind and size (never its content, which may be personal data).</summary>
    public override string ToString() => Kind switch
    {
        RedisArgKind.String => $"string ({_string!.Length} chars)",
        RedisArgKind.PrefixedString => $"string ({_bytes.Length} bytes + {_string!.Length} chars)",
        RedisArgKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        _ => $"bytes ({_bytes.Length})",
    };
}

/// <summary>What a <see cref="RedisArg"/> holds.</summary>
internal enum RedisArgKind : byte
{
    String,
    Integer,
    Bytes,

    /// <summary>UTF-8 bytes (<see cref="RedisArg.Bytes"/>) then a string (<see cref="RedisArg.String"/>), sent as one bulk string.</summary>
    PrefixedString,
}
