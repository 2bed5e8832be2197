using System.Buffers;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>Immutable by the HybridCache rule: sealed and marked <c>[ImmutableObject(true)]</c>.</summary>
[ImmutableObject(true)]
public sealed class ImmutableProduct(int id, string name)
{
    public int Id { get; } = id;

    public string Name { get; } = name;
}

/// <summary>Mutable: every hit must return a fresh copy.</summary>
public sealed class MutableProduct
{
    public int Id { get; set; }

    public string Name { get; set; } = "";
}

/// <summary>A record without the attribute: mutable by the HybridCache rule (records are not trusted implicitly).</summary>
public sealed record ProductRecord(int Id, string Name);

/// <summary>Fails whenever it is serialized.</summary>
public sealed class Unserializable
{
    public int Value { get; set; }
}

/// <summary>A serializer that tags its output so a test can tell which serializer ran.</summary>
public sealed class PrefixSerializer(string prefix) : IHybridCacheSerializer<MutableProduct>
{
    public int Serializations { get; private set; }

    public MutableProduct Deserialize(ReadOnlySequence<byte> source)
    {
        var text = Encoding.UTF8.GetString(source);
        var parts = text.Split('|');
        return new MutableProduct { Id = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), Name = parts[0] + parts[2] };
    }

    public void Serialize(MutableProduct value, IBufferWriter<byte> target)
    {
        Serializations++;
        Encoding.UTF8.GetBytes($"{prefix}|{value.Id}|{value.Name}", target);
    }
}

public sealed class PrefixSerializerFactory(string prefix) : IHybridCacheSerializerFactory
{
    public PrefixSerializer Serializer { get; } = new(prefix);

    public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
    {
        serializer = Serializer as IHybridCacheSerializer<T>;
        return serializer is not null;
    }
}

public sealed class FailingSerializerFactory : IHybridCacheSerializerFactory
{
    public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
    {
        serializer = typeof(T) == typeof(Unserializable) ? (IHybridCacheSerializer<T>)(object)new Failing() : null;
        return serializer is not null;
    }

    private sealed class Failing : IHybridCacheSerializer<Unserializable>
    {
        public Unserializable Deserialize(ReadOnlySequence<byte> source) => throw new InvalidOperationException("never stored");

        public void Serialize(Unserializable value, IBufferWriter<byte> target) => throw new InvalidOperationException("cannot serialize");
    }
}
