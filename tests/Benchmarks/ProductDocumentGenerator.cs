using System.Buffers;
using System.Text.Json;

namespace OptimizedCache.Benchmarks;

/// <summary>
/// Deterministic JSON catalog pages shaped like a Shopify-style store's products (variants, images,
/// descriptions), used to measure compression on the data the cache actually holds.
/// </summary>
internal static class ProductDocumentGenerator
{
    private static readonly string[] Adjectives = ["organic", "classic", "lightweight", "waterproof", "recycled", "premium", "vintage", "slim", "relaxed", "handmade"];
    private static readonly string[] Nouns = ["t-shirt", "hoodie", "backpack", "sneaker", "jacket", "beanie", "water bottle", "notebook", "mug", "scarf"];
    private static readonly string[] Vendors = ["Northwind", "Contoso Outdoor", "Fabrikam", "Tailspin Goods", "Litware"];
    private static readonly string[] Colors = ["black", "white", "navy", "forest", "sand", "charcoal", "red"];
    private static readonly string[] Sizes = ["XS", "S", "M", "L", "XL"];
    private static readonly string[] Words =
    [
        "soft", "durable", "fabric", "made", "from", "certified", "cotton", "designed", "for", "everyday", "wear",
        "with", "reinforced", "seams", "and", "a", "relaxed", "fit", "that", "keeps", "its", "shape", "wash",
        "after", "the", "pockets", "zip", "comfortable", "light", "warm", "travel", "city", "weekend", "trail",
    ];

    /// <summary>
    /// Builds a document of at most <paramref name="targetBytes"/> bytes holding as many whole products as fit
    /// (at least one: for a small target, the first generated product that fits, else the thousandth).
    /// </summary>
    /// <param name="targetBytes">The size to approach from below.</param>
    /// <param name="seed">The generator's seed; the same seed gives the same bytes.</param>
    /// <returns>UTF-8 JSON: <c>{"products":[…]}</c>.</returns>
    public static byte[] Generate(int targetBytes, int seed = 42)
    {
        ReadOnlySpan<byte> prefix = "{\"products\":["u8;
        ReadOnlySpan<byte> suffix = "]}"u8;
        var random = new Random(seed);
        var document = new ArrayBufferWriter<byte>(targetBytes + 4096);
        document.Write(prefix);
        var product = new ArrayBufferWriter<byte>(4096);
        var id = 7_000_000_000L;
        var count = 0;
        var attempts = 0;
        while (true)
        {
            product.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(product))
            {
                WriteProduct(json, random, id++);
            }

            var separator = count == 0 ? 0 : 1;
            if (document.WrittenCount + separator + product.WrittenCount + suffix.Length > targetBytes)
            {
                // Products vary in size: a small target keeps drawing until one fits (bounded, still deterministic).
                if (count > 0 || ++attempts >= 1000)
                {
                    if (count == 0)
                    {
                        document.Write(product.WrittenSpan);
                    }

                    break;
                }

                continue;
            }

            if (separator == 1)
            {
                document.Write(","u8);
            }

            document.Write(product.WrittenSpan);
            count++;
        }

        document.Write(suffix);
        return document.WrittenSpan.ToArray();
    }

    private static void WriteProduct(Utf8JsonWriter json, Random random, long id)
    {
        var title = $"{Pick(random, Adjectives)} {Pick(random, Nouns)}";
        json.WriteStartObject();
        json.WriteNumber("id", id);
        json.WriteString("title", char.ToUpperInvariant(title[0]) + title[1..]);
        json.WriteString("handle", title.Replace(' ', '-') + "-" + (id % 10_000));
        json.WriteString("vendor", Pick(random, Vendors));
        json.WriteString("product_type", Pick(random, Nouns));
        json.WriteString("created_at", new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 500_000)).ToString("O"));
        json.WriteString("status", "active");
        json.WriteString("body_html", "<p>" + Sentence(random, random.Next(10, 40)) + "</p><p>" + Sentence(random, random.Next(5, 20)) + "</p>");
        json.WriteStartArray("tags");
        for (var t = random.Next(2, 6); t > 0; t--)
        {
            json.WriteStringValue(Pick(random, Words));
        }

        json.WriteEndArray();
        json.WriteStartArray("variants");
        var price = random.Next(900, 15_000) / 100m;
        for (var v = random.Next(1, 5); v > 0; v--)
        {
            var color = Pick(random, Colors);
            var size = Pick(random, Sizes);
            json.WriteStartObject();
            json.WriteNumber("id", (id * 10) + v);
            json.WriteString("sku", $"SKU-{id % 100_000:D5}-{color[..3].ToUpperInvariant()}-{size}");
            json.WriteString("title", $"{color} / {size}");
            json.WriteNumber("price", price);
            json.WriteNumber("compare_at_price", price + 10m);
            json.WriteNumber("inventory_quantity", random.Next(0, 400));
            json.WriteString("option1", color);
            json.WriteString("option2", size);
            json.WriteNumber("grams", random.Next(100, 2000));
            json.WriteBoolean("requires_shipping", true);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("images");
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            json.WriteStartObject();
            json.WriteNumber("id", (id * 100) + i);
            json.WriteString("src", $"https://cdn.example-store.com/s/files/1/0{random.Next(100, 999)}/products/{id}_{i}.jpg?v={random.Next()}");
            json.WriteString("alt", title);
            json.WriteNumber("width", 2048);
            json.WriteNumber("height", random.Next(2) == 0 ? 2048 : 1536);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];

    private static string Sentence(Random random, int words) =>
        string.Join(' ', Enumerable.Range(0, words).Select(_ => Pick(random, Words))) + ".";
}
