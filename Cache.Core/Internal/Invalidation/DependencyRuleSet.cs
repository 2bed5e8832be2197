using System.Text;

namespace OptimizedCache.Cache.Core.Internal.Invalidation;

/// <summary>
/// The configured dependency rules, compiled: for each entity type, the tag templates a change to one entity
/// invalidates (<c>product</c> → <c>catalog:product:{id}</c>, <c>inventory:{id}</c>, …). A template's
/// <c>{name}</c> placeholders are filled from the values the caller gives; a placeholder with several values yields one
/// tag per value (a product in three collections invalidates three collection tags), one with none yields no tag.
/// Everything is bounded: entity types, templates per type, placeholders per template, template length, and the tags
/// one change may expand to.
/// </summary>
internal sealed class DependencyRuleSet
{
    /// <summary>The most entity types.</summary>
    public const int MaximumEntityTypes = 256;

    /// <summary>The most templates per entity type.</summary>
    public const int MaximumTemplatesPerEntity = 32;

    /// <summary>The most placeholders in one template.</summary>
    public const int MaximumPlaceholdersPerTemplate = 4;

    /// <summary>The longest template, in characters.</summary>
    public const int MaximumTemplateLength = 256;

    /// <summary>The most tags one change may expand to.</summary>
    public const int MaximumTagsPerChange = 1024;

    /// <summary>The placeholder the single-id overload fills.</summary>
    public const string IdPlaceholder = "id";

    private readonly Dictionary<string, Template[]> _rules;

    private DependencyRuleSet(Dictionary<string, Template[]> rules) => _rules = rules;

    /// <summary>The configured entity types.</summary>
    public IEnumerable<string> EntityTypes => _rules.Keys;

    /// <summary>A template split into literal parts and placeholder names: parts.Length == names.Length + 1.</summary>
    private sealed record Template(string Text, string[] Parts, string[] Names);

    /// <summary>Compiles the rules; invalid rules are an <see cref="ArgumentException"/> (options validation reports them first).</summary>
    public static DependencyRuleSet Create(IDictionary<string, string[]> rules)
    {
        var failures = Validate(rules);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(rules));
        }

        var compiled = new Dictionary<string, Template[]>(StringComparer.Ordinal);
        foreach (var (entity, templates) in rules)
        {
            compiled[entity] = [.. templates.Distinct(StringComparer.Ordinal).Select(t => Parse(t, out _)!)];
        }

        return new DependencyRuleSet(compiled);
    }

    /// <summary>What is wrong with the rules, each failure naming the entity type and template.</summary>
    public static List<string> Validate(IDictionary<string, string[]>? rules)
    {
        var failures = new List<string>();
        if (rules is null)
        {
            failures.Add("DependencyRules must not be null.");
            return failures;
        }

        if (rules.Count > MaximumEntityTypes)
        {
            failures.Add($"DependencyRules has {rules.Count} entity types; at most {MaximumEntityTypes} are allowed.");
        }

        foreach (var (entity, templates) in rules)
        {
            if (string.IsNullOrWhiteSpace(entity) || entity.Length > 64 || entity.Any(char.IsControl))
            {
                failures.Add($"DependencyRules has an empty, over-long (> 64) or ill-formed entity type '{entity}'.");
                continue;
            }

            if (templates is null || templates.Length is 0 or > MaximumTemplatesPerEntity)
            {
                failures.Add($"DependencyRules:{entity} must have 1 to {MaximumTemplatesPerEntity} tag templates; it has {templates?.Length ?? 0}.");
                continue;
            }

            foreach (var template in templates)
            {
                if (string.IsNullOrWhiteSpace(template) || template.Length > MaximumTemplateLength || template.Any(char.IsControl) || template == "*")
                {
                    failures.Add($"DependencyRules:{entity} has an empty, '*', over-long (> {MaximumTemplateLength}) or ill-formed template '{template}'.");
                    continue;
                }

                if (Parse(template, out var error) is null)
                {
                    failures.Add($"DependencyRules:{entity} template '{template}': {error}");
                }
            }
        }

        return failures;
    }

    /// <summary>
    /// The tags a change to <paramref name="entityType"/> invalidates. An unknown entity type, a placeholder the
    /// values do not provide, a bad value, or more than <see cref="MaximumTagsPerChange"/> tags is an
    /// <see cref="ArgumentException"/> naming it.
    /// </summary>
    public List<string> Expand(string entityType, IReadOnlyDictionary<string, IReadOnlyList<string>> values, int maximumTagLength)
    {
        ArgumentNullException.ThrowIfNull(entityType);
        ArgumentNullException.ThrowIfNull(values);
        if (!_rules.TryGetValue(entityType, out var templates))
        {
            throw new ArgumentException(
                $"No dependency rule for entity type '{Truncate(entityType)}'; configured: {(_rules.Count == 0 ? "none" : string.Join(", ", _rules.Keys))}.",
                nameof(entityType));
        }

        var tags = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var builder = new StringBuilder();
        foreach (var template in templates)
        {
            var choices = new IReadOnlyList<string>[template.Names.Length];
            long combinations = 1;
            for (var i = 0; i < template.Names.Length; i++)
            {
                var name = template.Names[i];
                if (!values.TryGetValue(name, out var given) || given is null)
                {
                    throw new ArgumentException(
                        $"The dependency rule for '{entityType}' uses {{{name}}} in '{template.Text}', but no value was given for '{name}'.", nameof(values));
                }

                foreach (var value in given)
                {
                    if (string.IsNullOrEmpty(value) || value.Any(char.IsControl) || value.Length > maximumTagLength)
                    {
                        throw new ArgumentException(
                            $"A value of '{name}' for '{entityType}' is empty, longer than {maximumTagLength} characters or has control characters.", nameof(values));
                    }
                }

                choices[i] = given;
                combinations *= given.Count;
            }

            if (combinations == 0)
            {
                continue;
            }

            if (tags.Count + combinations > MaximumTagsPerChange)
            {
                throw new ArgumentException($"A change to '{entityType}' expands to more than {MaximumTagsPerChange} tags.", nameof(values));
            }

            // odometer over the choices: one tag per combination of values
            var indexes = new int[choices.Length];
            while (true)
            {
                builder.Clear().Append(template.Parts[0]);
                for (var i = 0; i < choices.Length; i++)
                {
                    builder.Append(choices[i][indexes[i]]).Append(template.Parts[i + 1]);
                }

                if (builder.Length > maximumTagLength)
                {
                    throw new ArgumentException($"Template '{template.Text}' of '{entityType}' expands to a tag longer than {maximumTagLength} characters.", nameof(values));
                }

                var tag = builder.ToString();
                if (seen.Add(tag))
                {
                    tags.Add(tag);
                }

                var position = choices.Length - 1;
                while (position >= 0 && ++indexes[position] == choices[position].Count)
                {
                    indexes[position--] = 0;
                }

                if (position < 0)
                {
                    break;
                }
            }
        }

        return tags;
    }

    private static Template? Parse(string text, out string? error)
    {
        var parts = new List<string>();
        var names = new List<string>();
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '}')
            {
                error = $"'}}' at index {i} closes no placeholder.";
                return null;
            }

            if (c != '{')
            {
                literal.Append(c);
                continue;
            }

            var close = text.IndexOf('}', i + 1);
            var name = close < 0 ? "" : text[(i + 1)..close];
            if (close < 0 || name.Length is 0 or > 32 || !char.IsAsciiLetter(name[0]) || !name.All(char.IsAsciiLetterOrDigit))
            {
                error = $"the placeholder at index {i} must be '{{name}}' with an ASCII name of 1 to 32 letters or digits.";
                return null;
            }

            parts.Add(literal.ToString());
            literal.Clear();
            names.Add(name);
            i = close;
        }

        parts.Add(literal.ToString());
        if (names.Count > MaximumPlaceholdersPerTemplate)
        {
            error = $"it has {names.Count} placeholders; at most {MaximumPlaceholdersPerTemplate} are allowed.";
            return null;
        }

        error = null;
        return new Template(text, [.. parts], [.. names]);
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
