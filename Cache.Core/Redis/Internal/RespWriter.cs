using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace OptimizedCache.Cache.Core.Redis.Internal;

/// <summary>A command name, encoded once as a RESP2 bulk string.</summary>
internal sealed class CommandName
{
    public CommandName(string name)
    {
        Name = name;
        var bytes = Encoding.ASCII.GetBytes(name);
        Encoded = Encoding.ASCII.GetBytes($"${bytes.Length}\r\n{name}\r\n");
    }

    /// <summary>The name, for messages.</summary>
    public string Name { get; }

    /// <summary><c>$3\r\nGET\r\n</c>.</summary>
    public byte[] Encoded { get; }
}

/// <summary>Writes RESP2 commands (arrays of bulk strings) straight into a buffer writer.</summary>
internal static class RespWriter
{
    private const int SmallString = 1024;

    public static void WriteCommand(IBufferWriter<byte> writer, CommandName command, ReadOnlySpan<RedisArg> args)
    {
        WriteHeader(writer, (byte)'*', args.Length + 1);
        writer.Write(command.Encoded);
        foreach (ref readonly var arg in args)
        {
            WriteArg(writer, in arg);
        }
    }

    public static void WriteArg(IBufferWriter<byte> writer, in RedisArg arg)
    {
        switch (arg.Kind)
        {
            case RedisArgKind.String:
                WriteString(writer, arg.String);
                break;
            case RedisArgKind.Integer:
            {
                Span<byte> digits = stackalloc byte[24];
                Utf8Formatter.TryFormat(arg.Integer, digits, out var written);
                WriteBytes(writer, digits[..written]);
                break;
            }

            case RedisArgKind.PrefixedString:
                WritePrefixedString(writer, arg.Bytes.Span, arg.String);
                break;
            default:
                WriteBytes(writer, arg.Bytes.Span);
                break;
        }
    }

    private static void WritePrefixedString(IBufferWriter<byte> writer, ReadOnlySpan<byte> prefix, string value)
    {
        var length = prefix.Length + Encoding.UTF8.GetByteCount(value);
        if (length <= SmallString)
        {
            var span = writer.GetSpan(length + 16);
            span[0] = (byte)'$';
            var at = 1 + WriteDigits(span[1..], length);
            span[at++] = (byte)'\r';
            span[at++] = (byte)'\n';
            prefix.CopyTo(span[at..]);
            at += prefix.Length;
            at += Encoding.UTF8.GetBytes(value, span[at..]);
            span[at++] = (byte)'\r';
            span[at++] = (byte)'\n';
            writer.Advance(at);
            return;
        }

        WriteHeader(writer, (byte)'$', length);
        writer.Write(prefix);
        Encoding.UTF8.GetBytes(value.AsSpan(), writer);
        writer.Write("\r\n"u8);
    }

    private static void WriteString(IBufferWriter<byte> writer, string value) => WritePrefixedString(writer, [], value);

    private static void WriteBytes(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        if (value.Length <= SmallString)
        {
            var span = writer.GetSpan(value.Length + 16);
            span[0] = (byte)'$';
            var at = 1 + WriteDigits(span[1..], value.Length);
            span[at++] = (byte)'\r';
            span[at++] = (byte)'\n';
            value.CopyTo(span[at..]);
            at += value.Length;
            span[at++] = (byte)'\r';
            span[at++] = (byte)'\n';
            writer.Advance(at);
            return;
        }

        WriteHeader(writer, (byte)'$', value.Length);
        writer.Write(value);
        writer.Write("\r\n"u8);
    }

    private static void WriteHeader(IBufferWriter<byte> writer, byte type, int number)
    {
        var span = writer.GetSpan(16);
        span[0] = type;
        var at = 1 + WriteDigits(span[1..], number);
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        writer.Advance(at);
    }

    private static int WriteDigits(Span<byte> span, int number)
    {
        Utf8Formatter.TryFormat(number, span, out var written);
        return written;
    }
}
