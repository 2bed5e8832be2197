using OptimizedCache.Testing;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core.Tests.Invalidation;

namespace OptimizedCache.Cache.Core.Tests.Correctness;

public sealed record RoundTripProduct(int Id, string Name, decimal Price, string[] Tags);

public sealed record TupleHolder((int Count, string Label) Pair, List<(string, double)> Points);

#pragma warning disable CA1051 // public fields are what these types are about
public sealed class FieldOnly
{
    public int Count;
    public string? Name;
    public List<int>? Values;
}

public sealed class FieldsAndProperties
{
    public int Field;

    public string? Property { get; set; }
}

public sealed class PrivateSetter
{
    public int Id { get; private set; }

    public static PrivateSetter Create(int id) => new() { Id = id };
}

public sealed class PrivateStateOnly(int secret)
{
#pragma warning disable IDE0052, CA1823 // the point: state nothing serializes
    private readonly int _secret = secret;
#pragma warning restore IDE0052, CA1823
}
#pragma warning restore CA1051

public sealed class ComputedProperty
{
    public int Quantity { get; set; }

    public int Price { get; set; }

    public int Total => Quantity * Price;
}

public readonly record struct Money(decimal Amount, string Currency);

/// <summary>
/// Every kind of value the framework's default serializer round-trips comes back equal through L1 (a copy per hit for
/// mutable types) and through L2 (written by one instance, read by another that has never held it).
/// </summary>
public sealed class RoundTripTests
{
    public static TheoryData<string> Rows => new(Cases.Keys);

    private static readonly Dictionary<string, Func<Replicas, Task>> Cases = new()
    {
        ["value tuple"] = r => CheckAsync(r, (42, "abc")),
        ["named value tuple"] = r => CheckAsync(r, (Id: 7, Name: "seven")),
        ["unmanaged value tuple"] = r => CheckAsync(r, (1, 2.5)),
        ["list of tuples"] = r => CheckAsync(r, new List<(int, string)> { (1, "a"), (2, "b") }),
        ["array of tuples"] = r => CheckAsync(r, new[] { (1, "a"), (2, "b") }),
        ["dictionary of tuples"] = r => CheckAsync(r, new Dictionary<string, (int, string)> { ["x"] = (1, "a"), ["y"] = (2, "b") }),
        ["record"] = r => CheckAsync(r, new RoundTripProduct(1, "Widget", 9.99m, ["a", "b"])),
        ["record holding tuples"] = r => CheckAsync(r, new TupleHolder((3, "three"), [("p", 1.5), ("q", -2)])),
        ["class with public fields"] = r => CheckAsync(r, new FieldOnly { Count = 3, Name = "n", Values = [1, 2, 3] }),
        ["class with fields and properties"] = r => CheckAsync(r, new FieldsAndProperties { Field = 5, Property = "p" }),
        ["class with a computed property"] = r => CheckAsync(r, new ComputedProperty { Quantity = 3, Price = 4 }),
        ["record struct"] = r => CheckAsync(r, new Money(12.5m, "EUR")),
        ["string"] = r => CheckAsync(r, "héllo wörld"),
        ["byte array"] = r => CheckAsync(r, new byte[] { 0, 1, 2, 255 }),
        ["int"] = r => CheckAsync(r, 123),
        ["long"] = r => CheckAsync(r, long.MaxValue),
        ["double"] = r => CheckAsync(r, Math.PI),
        ["decimal"] = r => CheckAsync(r, 79228162514264337593543950335m),
        ["guid"] = r => CheckAsync(r, Guid.NewGuid()),
        ["date time offset"] = r => CheckAsync(r, new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.FromHours(9))),
        ["nullable"] = r => CheckAsync<int?>(r, 5),
        ["list of records"] = r => CheckAsync(r, new List<RoundTripProduct> { new(1, "a", 1m, []), new(2, "b", 2m, ["x"]) }),
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task AValueComesBackEqualThroughL1AndThroughL2(string row)
    {
        await using var replicas = await Replicas.StartAsync(2);
        await Cases[row](replicas);
    }

    private static async Task CheckAsync<T>(Replicas replicas, T value)
    {
        var (writer, reader) = (replicas[0], replicas[1]);
        var key = "product:" + Guid.NewGuid().ToString("N");
        await writer.SetAsync(key, value);

        var fromL1 = await writer.GetOrCreateAsync<T>(key, _ => throw new InvalidOperationException("L1 missed"));
        Assert.Equivalent(value, fromL1, strict: true);
        var fromL2 = await reader.GetOrCreateAsync<T>(key, _ => throw new InvalidOperationException("L2 missed"));
        Assert.Equivalent(value, fromL2, strict: true);

        // and through a factory on a cold key, the other way round
        var cold = key + ":cold";
        Assert.Equivalent(value, await reader.GetOrCreateAsync(cold, _ => new ValueTask<T>(value)), strict: true);
        Assert.Equivalent(value, await reader.GetOrCreateAsync<T>(cold, _ => throw new InvalidOperationException("L1 missed")), strict: true);
        // the factory's L2 write is not awaited by the read: let it land before the other replica reads
        await using (var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString))
        {
            await Replicas.WaitUntilAsync(() => raw.ExistsAsync([reader.DistributedTier!.RedisKey(cold)]).Result == 1, "the factory's L2 write");
        }

        Assert.Equivalent(value, await writer.GetOrCreateAsync<T>(cold, _ => throw new InvalidOperationException("L2 missed")), strict: true);
    }

    [Fact]
    public async Task TheIssuesValueTupleReproReturnsTheStoredTuple()
    {
        using var provider = new ServiceCollection().AddOptimizedHybridCache().Services.BuildServiceProvider();
        var cache = provider.GetRequiredService<HybridCache>();
        await cache.SetAsync("t", (42, "abc"));
        var value = await cache.GetOrCreateAsync<(int, string)>("t", _ => throw new InvalidOperationException());
        Assert.Equal((42, "abc"), value);
    }

    [Fact]
    public async Task ATypeWhoseStateWouldBeLostFailsAtItsFirstWrite()
    {
        using var test = TestCache.Create();
        var error = await Assert.ThrowsAsync<UnsupportedCacheValueTypeException>(async () => await test.Cache.SetAsync("k", PrivateSetter.Create(5)));
        Assert.Equal(typeof(PrivateSetter), error.ValueType);
        Assert.Contains("PrivateSetter.Id", error.Message, StringComparison.Ordinal);

        var viaFactory = await Assert.ThrowsAsync<UnsupportedCacheValueTypeException>(
            async () => await test.Cache.GetOrCreateAsync("p", _ => new ValueTask<PrivateStateOnly>(new PrivateStateOnly(1))));
        Assert.Contains("PrivateStateOnly", viaFactory.Message, StringComparison.Ordinal);
    }

    private sealed class MoneyConverter : JsonConverter<Money>
    {
        public int Writes;

        public override Money Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var parts = reader.GetString()!.Split(' ');
            return new Money(decimal.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts[1]);
        }

        public override void Write(Utf8JsonWriter writer, Money value, JsonSerializerOptions options)
        {
            Interlocked.Increment(ref Writes);
            writer.WriteStringValue(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value.Amount} {value.Currency}"));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RegisteredJsonSerializerOptionsAreUsedForAllTypesOrForOne(bool perType)
    {
        var converter = new MoneyConverter();
        var options = new JsonSerializerOptions { Converters = { converter } };
        using var test = TestCache.Create(build: builder =>
        {
            if (perType)
            {
                builder.Services.AddKeyedSingleton<JsonSerializerOptions>(typeof(IHybridCacheSerializer<Money>), options);
            }
            else
            {
                builder.Services.AddKeyedSingleton<JsonSerializerOptions>(typeof(IHybridCacheSerializer<>), options);
            }
        });

        await test.Cache.SetAsync("money", new Money(3.5m, "JPY"));
        Assert.Equal(1, converter.Writes);
        Assert.Equal(new Money(3.5m, "JPY"), await test.Cache.GetOrCreateAsync<Money>("money", _ => throw new InvalidOperationException()));
    }

    [Fact]
    public async Task OptionsThatLeaveFieldsOutStillStoreTuplesWithTheirOtherSettings()
    {
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        using var test = TestCache.Create(build: builder => builder.Services.AddKeyedSingleton<JsonSerializerOptions>(typeof(IHybridCacheSerializer<>), options));
        await test.Cache.SetAsync("holder", new TupleHolder((1, "one"), [("a", 1)]));
        var back = await test.Cache.GetOrCreateAsync<TupleHolder>("holder", _ => throw new InvalidOperationException());
        Assert.Equivalent(new TupleHolder((1, "one"), [("a", 1)]), back, strict: true);

        Assert.True(new Cache.Core.Internal.InbuiltSerializerFactory(test.Services).TryCreateSerializer<TupleHolder>(out var serializer));
        var written = new System.Buffers.ArrayBufferWriter<byte>();
        serializer.Serialize(back, written);
        Assert.Equal("""{"pair":{"item1":1,"item2":"one"},"points":[{"item1":"a","item2":1}]}""", System.Text.Encoding.UTF8.GetString(written.WrittenSpan));
    }
}
