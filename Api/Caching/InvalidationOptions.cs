using System.Text.RegularExpressions;

namespace OptimizedCache.Api.Caching;

/// <summary>
/// Dependency rules: which cache tags a change to an entity invalidates. Each template's
/// <c>{placeholder}</c> is filled from the changed entity; a placeholder with several values (a product's
/// collections, an order's products) yields one tag per value. Bound from <c>Invalidation</c>.
/// </summary>
public sealed partial class InvalidationOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Invalidation";

    /// <summary>The placeholders each entity provides.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Placeholders = new Dictionary<string, string[]>
    {
        ["product"] = ["id", "collectionId"],
        ["inventory"] = ["productId"],
        ["order"] = ["id", "customerId", "productId"],
    };

    /// <summary>
    /// The rules that apply when configuration names none for an entity: a product change invalidates the
    /// product, its inventory, its collections, the product pages and every recommendation list; an inventory
    /// change its inventory entry; a new order the order id, its customer, the customer's order list and the
    /// inventory of what it bought.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> DefaultRules = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["product"] = ["product:{id}", "inventory:{id}", "collection:{collectionId}", "catalog:products", "recommendations"],
        ["inventory"] = ["inventory:{productId}"],
        ["order"] = ["order:{id}", "customer:{customerId}", "customer-orders:{customerId}", "inventory:{productId}"],
    };

    private Dictionary<string, string[]>? _effective;

    /// <summary>Tag templates by changed entity (<c>product</c>, <c>inventory</c>, <c>order</c>), replacing the default rule of each entity named.</summary>
    /// <value>Default empty: <see cref="DefaultRules"/> apply.</value>
    public Dictionary<string, string[]> Rules { get; set; } = new(StringComparer.Ordinal);

    private Dictionary<string, string[]> EffectiveRules => _effective ??= DefaultRules
        .Where(r => !Rules.ContainsKey(r.Key))
        .Concat(Rules)
        .ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);

    /// <summary>Returns what is wrong with the rules, or null when they are valid.</summary>
    public string? Validate()
    {
        foreach (var (entity, templates) in EffectiveRules)
        {
            if (!Placeholders.TryGetValue(entity, out var known))
            {
                return $"Invalidation:Rules has an unknown entity '{entity}'; known: {string.Join(", ", Placeholders.Keys)}.";
            }

            if (templates is null || templates.Length is 0 or > 32)
            {
                return $"Invalidation:Rules:{entity} must have 1 to 32 tag templates.";
            }

            foreach (var template in templates)
            {
                if (string.IsNullOrWhiteSpace(template) || template.Length > 200)
                {
                    return $"Invalidation:Rules:{entity} has an empty or over-long template '{template}'.";
                }

                foreach (Match m in PlaceholderPattern().Matches(template))
                {
                    if (!known.Contains(m.Groups[1].Value))
                    {
                        return $"Invalidation:Rules:{entity} template '{template}' uses '{{{m.Groups[1].Value}}}'; {entity} provides {string.Join(", ", known)}.";
                    }
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The rules in force (configured ones replacing the defaults of the entities they name), as the cache's
    /// <see cref="OptimizedCache.Cache.Core.OptimizedHybridCacheOptions.DependencyRules"/>: the cache expands and
    /// applies them (<c>InvalidateDependentsAsync</c>), so there is one invalidation mechanism.
    /// </summary>
    public IReadOnlyDictionary<string, string[]> Effective => EffectiveRules;

    [GeneratedRegex(@"\{([A-Za-z]+)\}")]
    private static partial Regex PlaceholderPattern();
}
