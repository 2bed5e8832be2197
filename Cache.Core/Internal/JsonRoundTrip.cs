using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Makes System.Text.Json store what a type holds: fields are included when the type graph keeps state in public
/// fields (value tuples, field-only classes) and the options leave them out; state that would still be lost (a type
/// with no serialized member, an auto-property or read-only field with no public setter and no constructor
/// parameter) is reported, so the cache can refuse the type instead of handing back default members.
/// </summary>
internal static class JsonRoundTrip
{
    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> WithFieldsCache = [];

    public static JsonSerializerOptions Prepare(Type type, JsonSerializerOptions options, out string? problem)
    {
        problem = null;
        try
        {
            // the serializer locks the options on first use anyway, filling in the reflection resolver when none is set
            options.MakeReadOnly(populateMissingResolver: true);
            if (!options.IncludeFields && Walk(type, options).Any(HasPublicFields))
            {
                options = WithFieldsCache.GetValue(options, static o =>
                {
                    var copy = new JsonSerializerOptions(o) { IncludeFields = true };
                    copy.MakeReadOnly(populateMissingResolver: true);
                    return copy;
                });
            }

            foreach (var info in Walk(type, options))
            {
                if ((problem = FindLoss(info)) is not null)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            problem = ex.Message; // the contract itself is invalid (say, a constructor parameter that binds to nothing)
        }

        return options;
    }

    // Every object, collection element and dictionary key/value type reachable from the root, once each.
    private static IEnumerable<JsonTypeInfo> Walk(Type root, JsonSerializerOptions options)
    {
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var type = pending.Pop();
            if (!seen.Add(type) || type.IsPrimitive || type == typeof(string) || type.IsEnum)
            {
                continue;
            }

            var info = options.GetTypeInfo(type);
            yield return info;
            switch (info.Kind)
            {
                case JsonTypeInfoKind.Object:
                    foreach (var property in info.Properties)
                    {
                        pending.Push(property.PropertyType);
                    }

                    break;
                case JsonTypeInfoKind.Enumerable:
                case JsonTypeInfoKind.Dictionary:
                    if (info.ElementType is { } element)
                    {
                        pending.Push(element);
                    }

                    if (info.KeyType is { } key)
                    {
                        pending.Push(key);
                    }

                    break;
            }
        }
    }

    private static bool HasPublicFields(JsonTypeInfo info) =>
        info.Kind == JsonTypeInfoKind.Object && info.Type.GetFields(BindingFlags.Public | BindingFlags.Instance).Length > 0;

    private static string? FindLoss(JsonTypeInfo info)
    {
        var type = info.Type;
        if (info.Kind != JsonTypeInfoKind.Object || type.IsAbstract || type.IsInterface || type == typeof(object))
        {
            return null; // converters own their format; abstract types fail loudly when read
        }

        const BindingFlags AllInstance = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        if (info.Properties.Count == 0)
        {
            return type.GetFields(AllInstance).Length > 0 ? $"{type.Name} has state but no member that is written" : null;
        }

        foreach (var property in info.Properties)
        {
            if (property.Get is null || property.Set is not null || property.AssociatedParameter is not null
                || property.ObjectCreationHandling == JsonObjectCreationHandling.Populate)
            {
                continue;
            }

            var lost = property.AttributeProvider switch
            {
                FieldInfo field => field.IsInitOnly,
                PropertyInfo clr => HasBackingField(clr),
                _ => false,
            };
            if (lost)
            {
                return $"{type.Name}.{property.Name} is written but cannot be read back (no public setter, no constructor parameter)";
            }
        }

        return null;
    }

    // An auto-property keeps its value in a compiler-generated field; a computed property has none and loses nothing.
    private static bool HasBackingField(PropertyInfo property)
    {
        for (var type = property.DeclaringType; type is not null; type = type.BaseType)
        {
            if (type.GetField($"<{property.Name}>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance) is not null)
            {
                return true;
            }
        }

        return false;
    }
}
