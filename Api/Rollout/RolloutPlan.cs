using System.Text.Json;
using OptimizedCache.Api.Caching;

namespace OptimizedCache.Api.Rollout;

/// <summary>A rollout plan: phases in order, each giving every cache feature a percentage. Phase 0 is all off.</summary>
/// <param name="Name">The plan's name (<c>seed000</c>, <c>risk</c>).</param>
/// <param name="Description">What the plan follows.</param>
/// <param name="Phases">The phases, index = phase number.</param>
public sealed record RolloutPlan(string Name, string Description, IReadOnlyList<RolloutPhase> Phases)
{
    /// <summary>The highest phase number.</summary>
    public int LastPhase => Phases.Count - 1;

    /// <summary>The plans shipped with the API, from the embedded <c>rollout-plans.json</c>.</summary>
    public static IReadOnlyDictionary<string, RolloutPlan> Presets { get; } = LoadPresets();

    /// <summary>Returns what is wrong with the plan, or null when it is valid.</summary>
    public string? Validate()
    {
        if (Phases.Count is < 2 or > 20)
        {
            return $"Plan '{Name}' must have 2 to 20 phases; it has {Phases.Count}.";
        }

        for (var p = 0; p < Phases.Count; p++)
        {
            foreach (var (feature, percent) in Phases[p].Features)
            {
                if (!CacheFeatures.All.Contains(feature))
                {
                    return $"Plan '{Name}' phase {p} names unknown feature '{feature}'; known: {string.Join(", ", CacheFeatures.All)}.";
                }

                if (percent is < 0 or > 100)
                {
                    return $"Plan '{Name}' phase {p} gives '{feature}' {percent}%; percentages are 0 to 100.";
                }

                if (p == 0 && percent != 0)
                {
                    return $"Plan '{Name}' phase 0 gives '{feature}' {percent}%; phase 0 must be all off.";
                }
            }
        }

        return null;
    }

    private static Dictionary<string, RolloutPlan> LoadPresets()
    {
        using var stream = typeof(RolloutPlan).Assembly.GetManifestResourceStream("OptimizedCache.Api.Rollout.rollout-plans.json")
            ?? throw new InvalidOperationException("The embedded rollout-plans.json is missing.");
        var document = JsonSerializer.Deserialize<Dictionary<string, PlanDocument>>(stream, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException("rollout-plans.json is empty.");
        return document.ToDictionary(
            p => p.Key,
            p => new RolloutPlan(
                p.Key,
                p.Value.Description ?? string.Empty,
                [.. p.Value.Phases.Select((phase, i) => new RolloutPhase(i, phase.Description ?? string.Empty, phase.Features))]),
            StringComparer.OrdinalIgnoreCase);
    }

    private sealed record PlanDocument(string? Description, List<PhaseDocument> Phases);

    private sealed record PhaseDocument(string? Description, Dictionary<string, int> Features);
}

/// <summary>One phase of a plan.</summary>
/// <param name="Number">The phase number.</param>
/// <param name="Description">What it switches on.</param>
/// <param name="Features">Percentage per feature; a feature not named is 0.</param>
public sealed record RolloutPhase(int Number, string Description, IReadOnlyDictionary<string, int> Features)
{
    /// <summary>The percentage of <paramref name="feature"/> in this phase.</summary>
    public int PercentageOf(string feature) => Features.GetValueOrDefault(feature);
}
