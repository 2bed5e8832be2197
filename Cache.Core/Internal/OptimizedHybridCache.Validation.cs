using System.Runtime.CompilerServices;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core;

// Bad input is an ArgumentException naming the problem (length, position of a control character), never the key's
// content: keys may hold personal data.
public sealed partial class OptimizedHybridCache
{
    // IndexOfAnyInRange allocates on this path in .NET 10; SearchValues is vectorized and allocation-free.
    private static readonly System.Buffers.SearchValues<char> ControlCharacters =
        System.Buffers.SearchValues.Create(Enumerable.Range(0, 32).Select(c => (char)c).ToArray());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ValidateKey(string key)
    {
        if (key is null || key.Length == 0 || key.Length > _maximumKeyLength || key.AsSpan().IndexOfAny(ControlCharacters) >= 0 || char.IsWhiteSpace(key[0]))
        {
            ValidateKeySlow(key);
        }
    }

    private void ValidateKeySlow(string? key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException("The cache key is empty or whitespace.", nameof(key));
        }

        if (key.Length > _maximumKeyLength)
        {
            throw new ArgumentException($"The cache key is {key.Length} characters long; MaximumKeyLength is {_maximumKeyLength}.", nameof(key));
        }

        var index = key.AsSpan().IndexOfAny(ControlCharacters);
        if (index >= 0)
        {
            throw new ArgumentException($"The cache key contains the control character U+{(int)key[index]:X4} at index {index}.", nameof(key));
        }

        // leading whitespace is allowed when the key has other content: only all-whitespace keys are refused
    }

    private void ValidateTag(string tag, bool allowWildcard)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (string.IsNullOrWhiteSpace(tag))
        {
            throw new ArgumentException("A tag is empty or whitespace.", nameof(tag));
        }

        if (tag.Length > _maximumKeyLength)
        {
            throw new ArgumentException($"A tag is {tag.Length} characters long; the limit (MaximumKeyLength) is {_maximumKeyLength}.", nameof(tag));
        }

        var index = tag.AsSpan().IndexOfAny(ControlCharacters);
        if (index >= 0)
        {
            throw new ArgumentException($"A tag contains the control character U+{(int)tag[index]:X4} at index {index}.", nameof(tag));
        }

        if (!allowWildcard && tag == TagInvalidationTable.Wildcard)
        {
            throw new ArgumentException("The tag '*' stands for every entry; it can be invalidated but not attached to an entry.", nameof(tag));
        }
    }

    private string[] ValidateTags(IEnumerable<string>? tags)
    {
        if (tags is null)
        {
            return [];
        }

        var list = new List<string>();
        foreach (var tag in tags)
        {
            ValidateTag(tag, allowWildcard: false);
            if (!list.Contains(tag))
            {
                list.Add(tag);
            }

            if (list.Count > _options.MaximumTagsPerEntry)
            {
                throw new ArgumentException($"An entry may carry at most {_options.MaximumTagsPerEntry} tags (MaximumTagsPerEntry).", nameof(tags));
            }
        }

        return list.Count == 0 ? [] : [.. list];
    }
}
