using System.Globalization;
using System.Text;

namespace OptimizedCache.Api.Origin;

/// <summary>
/// Generates the simulated store as a pure function of (seed, id): nothing is held in memory but the
/// changes made through the API, so a 20,000-product store costs no start-up time and no heap.
/// </summary>
internal sealed class CatalogGenerator(long seed, int products, int collections, int customers)
{
    /// <summary>Order ids of generated orders are customerId × this + n.</summary>
    public const int OrderSlotsPerCustomer = 16;

    private const ulong ProductStream = 1, CollectionStream = 2, CustomerStream = 3, OrderStream = 4,
        InventoryStream = 5, RecommendationStream = 6;

    private static readonly string[] Adjectives =
        ["Rustic", "Sleek", "Ergonomic", "Handmade", "Vintage", "Modern", "Classic", "Lightweight", "Durable", "Organic",
         "Recycled", "Premium", "Compact", "Heritage", "Coastal", "Alpine", "Urban", "Minimal", "Bold", "Soft"];

    private static readonly string[] Materials =
        ["Cotton", "Wool", "Linen", "Leather", "Steel", "Oak", "Bamboo", "Ceramic", "Glass", "Granite",
         "Silk", "Denim", "Canvas", "Copper", "Walnut", "Merino", "Hemp", "Cork", "Brass", "Suede"];

    private static readonly string[] Nouns =
        ["Shirt", "Mug", "Backpack", "Lamp", "Chair", "Wallet", "Scarf", "Bottle", "Notebook", "Jacket",
         "Sneakers", "Watch", "Blanket", "Planter", "Bowl", "Cap", "Tote", "Candle", "Desk", "Apron"];

    private static readonly string[] Vendors =
        ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Woodgrove", "Adventure Works", "Litware", "Proseware"];

    private static readonly string[] Colors = ["Black", "White", "Navy", "Olive", "Sand", "Rust", "Grey", "Teal"];

    private static readonly string[] Sizes = ["XS", "S", "M", "L", "XL", "XXL"];

    private static readonly string[] Words =
        ["crafted", "from", "responsibly", "sourced", "materials", "designed", "to", "last", "for", "everyday", "use",
         "with", "a", "timeless", "silhouette", "and", "attention", "detail", "every", "piece", "is", "inspected",
         "by", "hand", "before", "it", "leaves", "our", "workshop", "comfortable", "breathable", "easy", "care",
         "machine", "washable", "finish", "that", "ages", "beautifully", "over", "time", "perfect", "gift", "home",
         "travel", "office", "weekend", "adventures", "pairs", "well", "the", "rest", "of", "collection", "its",
         "made", "small", "batches", "limited", "runs", "natural", "texture", "subtle", "sheen", "reinforced", "seams"];

    private static readonly string[] FirstNames =
        ["Aiko", "Ben", "Chloe", "Daichi", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kenji", "Lena",
         "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Yuki"];

    private static readonly string[] LastNames =
        ["Tanaka", "Smith", "Garcia", "Müller", "Rossi", "Kim", "Nguyen", "Silva", "Dubois", "Sato", "Novak", "Okafor"];

    private static readonly string[] Cities =
        [("Tokyo"), "Osaka", "Berlin", "Lisbon", "Toronto", "Austin", "Lyon", "Seoul", "Oslo", "Melbourne"];

    private static readonly string[] Countries = ["JP", "JP", "DE", "PT", "CA", "US", "FR", "KR", "NO", "AU"];

    private readonly ulong _seed = (ulong)seed;

    public int ProductCount => products;

    public int CollectionCount => collections;

    public int CustomerCount => customers;

    public bool IsProduct(long id) => id >= 1 && id <= products;

    public bool IsCollection(long id) => id >= 1 && id <= collections;

    public bool IsCustomer(long id) => id >= 1 && id <= customers;

    public Product Product(long id, DateTimeOffset epoch)
    {
        var rng = new DeterministicRandom(_seed, ProductStream, id);
        var adjective = rng.Pick(Adjectives);
        var material = rng.Pick(Materials);
        var noun = rng.Pick(Nouns);
        var title = $"{adjective} {material} {noun}";
        var handle = $"{adjective}-{material}-{noun}-{id}".ToLowerInvariant();
        var basePrice = Math.Round((decimal)(5 + (rng.NextDouble() * 295)), 2);

        var variantCount = rng.Next(2, 7);
        var variants = new ProductVariant[variantCount];
        for (var v = 0; v < variantCount; v++)
        {
            var size = Sizes[v % Sizes.Length];
            var color = rng.Pick(Colors);
            var price = basePrice + (v * 2);
            variants[v] = new ProductVariant(
                (id * 10) + v, $"{size} / {color}", $"SKU-{id:D6}-{v}", price,
                rng.Next(0, 3) == 0 ? Math.Round(price * 1.2m, 2) : null, rng.Next(100, 2500), size, color);
        }

        var imageCount = rng.Next(2, 6);
        var images = new ProductImage[imageCount];
        for (var i = 0; i < imageCount; i++)
        {
            images[i] = new ProductImage(
                (id * 10) + i, $"https://cdn.store.example/products/{id}/{i}.jpg", $"{title} — view {i + 1}", 2048, 2048);
        }

        var tags = new string[rng.Next(3, 7)];
        for (var t = 0; t < tags.Length; t++)
        {
            tags[t] = rng.Pick(Words);
        }

        var description = Paragraphs(ref rng, rng.Next(1_000, 2_400));
        var updatedAt = epoch.AddMinutes(-rng.Next(0, 500_000));
        return new Product(
            id, title, handle, description, rng.Pick(Vendors), noun, tags, variants, images,
            CollectionsOf(id), updatedAt, 1);
    }

    /// <summary>A product belongs to two collections, computed so a collection's members can be enumerated.</summary>
    public long[] CollectionsOf(long id)
    {
        var first = ((id - 1) % collections) + 1;
        var second = (((id - 1) / collections * 7 + id) % collections) + 1;
        return first == second ? [first] : [first, second];
    }

    public (string Title, string Handle, string Description) CollectionInfo(long id)
    {
        var rng = new DeterministicRandom(_seed, CollectionStream, id);
        var title = $"{rng.Pick(Adjectives)} {rng.Pick(Nouns)}s {id}";
        return (title, title.ToLowerInvariant().Replace(' ', '-'), Paragraphs(ref rng, 300));
    }

    public Customer Customer(long id, int createdOrders, decimal createdSpent)
    {
        var rng = new DeterministicRandom(_seed, CustomerStream, id);
        var first = rng.Pick(FirstNames);
        var last = rng.Pick(LastNames);
        var place = rng.Next(0, Cities.Length);
        var orders = GeneratedOrderCount(id);
        decimal spent = 0;
        for (var n = 0; n < orders; n++)
        {
            spent += GeneratedOrder(id, n, DateTimeOffset.UnixEpoch).Total;
        }

        return new Customer(
            id, $"{first}.{last}.{id}@mail.example".ToLowerInvariant(), first, last, Cities[place], Countries[place],
            orders + createdOrders, spent + createdSpent, rng.Next(0, 4) == 0 ? ["vip"] : []);
    }

    public int GeneratedOrderCount(long customerId) =>
        new DeterministicRandom(_seed, OrderStream, customerId).Next(0, 9);

    /// <summary>The n-th generated order of a customer.</summary>
    public Order GeneratedOrder(long customerId, int n, DateTimeOffset epoch)
    {
        var id = (customerId * OrderSlotsPerCustomer) + n;
        var rng = new DeterministicRandom(_seed, OrderStream, id);
        var lines = new OrderLine[rng.Next(1, 5)];
        decimal total = 0;
        for (var l = 0; l < lines.Length; l++)
        {
            var productId = rng.Next(1, products + 1);
            var quantity = rng.Next(1, 4);
            var price = Math.Round((decimal)(5 + (rng.NextDouble() * 295)), 2);
            lines[l] = new OrderLine(productId, productId * 10, quantity, price);
            total += price * quantity;
        }

        return new Order(id, customerId, lines, total, "JPY", "fulfilled", epoch.AddHours(-rng.Next(24, 24 * 700)));
    }

    public int BaseInventory(long productId) => new DeterministicRandom(_seed, InventoryStream, productId).Next(0, 500);

    public long[] RecommendedProductIds(long customerId, int count)
    {
        var rng = new DeterministicRandom(_seed, RecommendationStream, customerId);
        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = rng.Next(1, products + 1);
        }

        return ids;
    }

    private static string Paragraphs(ref DeterministicRandom rng, int targetLength)
    {
        var text = new StringBuilder(targetLength + 120);
        while (text.Length < targetLength)
        {
            var words = rng.Next(8, 17);
            for (var w = 0; w < words; w++)
            {
                var word = rng.Pick(Words);
                if (w == 0)
                {
                    text.Append(char.ToUpper(word[0], CultureInfo.InvariantCulture)).Append(word.AsSpan(1));
                }
                else
                {
                    text.Append(' ').Append(word);
                }
            }

            text.Append(". ");
        }

        return text.ToString(0, text.Length - 1);
    }
}
