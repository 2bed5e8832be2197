using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>The fast paths: <see cref="string"/> as UTF-8 and <see cref="T:byte[]"/> as is, then System.Text.Json for the rest.</summary>
internal sealed class InbuiltSerializerFactory : IHybridCacheSerializerFactory
{
    public static InbuiltSerializerFactory Instance { get; } = new();

    public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
    {
        if (typeof(T) == typeof(string))
        {
            serializer = (IHybridCacheSerializer<T>)(object)StringSerializer.Instance;
        }
        else if (typeof(T) == typeof(byte[]))
        {
            serializer = (IHybridCacheSerializer<T>)(object)ByteArraySerializer.Instance;
        }
        else
        {
            serializer = JsonSerializer<T>.Instance;
        }

        return true;
    }

    private sealed class StringSerializer : IHybridCacheSerializer<string>
    {
        public static readonly StringSerializer Instance = new();

        public string Deserialize(ReadOnlySequence<byte> source) => Encoding.UTF8.GetString(source);

        public void Serialize(string value, IBufferWriter<byte> target) => Encoding.UTF8.GetBytes(value, target);
    }

    private sealed class ByteArraySerializer : IHybridCacheSerializer<byte[]>
    {
        public static readonly ByteArraySerializer Instance = new();

        public byte[] Deserialize(ReadOnlySequence<byte> source) => source.ToArray();

        public void Serialize(byte[] value, IBufferWriter<byte> target) => target.Write(value);
    }

    private sealed class JsonSerializer<T> : IHybridCacheSerializer<T>
    {
        public static readonly JsonSerializer<T> Instance = new();

        public T Deserialize(ReadOnlySequence<byte> source)
        {
            var reader = new Utf8JsonReader(source);
            return JsonSerializer.Deserialize<T>(ref reader)!;
        }

        public void Serialize(T value, IBufferWriter<byte> target)
        {
            using var writer = new Utf8JsonWriter(target);
            JsonSerializer.Serialize(writer, value);
        }
    }
}
