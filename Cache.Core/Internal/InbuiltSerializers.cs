using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The fast paths (<see cref="string"/> as UTF-8, <see cref="T:byte[]"/> as is), then System.Text.Json with the options
/// the application registered the way HybridCache's documentation gives: keyed by <c>typeof(IHybridCacheSerializer&lt;T&gt;)</c>
/// for one type, else by the open <c>typeof(IHybridCacheSerializer&lt;&gt;)</c> for all, else the defaults.
/// </summary>
internal sealed class InbuiltSerializerFactory(IServiceProvider services) : IHybridCacheSerializerFactory
{
    private readonly JsonSerializerOptions _options = services.GetKeyedService<JsonSerializerOptions>(typeof(IHybridCacheSerializer<>)) ?? JsonSerializerOptions.Default;

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
            var options = services.GetKeyedService<JsonSerializerOptions>(typeof(IHybridCacheSerializer<T>)) ?? _options;
            serializer = new JsonSerializer<T>(JsonRoundTrip.Prepare(typeof(T), options, out var problem), problem);
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

    /// <summary>System.Text.Json; a type it cannot round-trip fails its first write instead of losing data.</summary>
    internal sealed class JsonSerializer<T>(JsonSerializerOptions options, string? problem) : IHybridCacheSerializer<T>
    {
        public JsonSerializerOptions Options { get; } = options;

        public T Deserialize(ReadOnlySequence<byte> source)
        {
            ThrowIfUnsupported();
            var reader = new Utf8JsonReader(source);
            return JsonSerializer.Deserialize<T>(ref reader, Options)!;
        }

        public void Serialize(T value, IBufferWriter<byte> target)
        {
            ThrowIfUnsupported();
            using var writer = new Utf8JsonWriter(target);
            JsonSerializer.Serialize(writer, value, Options);
        }

        private void ThrowIfUnsupported()
        {
            if (problem is not null)
            {
                throw new UnsupportedCacheValueTypeException(typeof(T), problem);
            }
        }
    }
}
