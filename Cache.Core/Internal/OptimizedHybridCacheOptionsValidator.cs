using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Checks <see cref="OptimizedHybridCacheOptions"/> at start-up; each failure names the setting and its value.</summary>
internal sealed class OptimizedHybridCacheOptionsValidator : IValidateOptions<OptimizedHybridCacheOptions>
{
    internal const int MaximumDataTypes = 64;

    public ValidateOptionsResult Validate(string? name, OptimizedHybridCacheOptions options)
    {
        var failures = new List<string>();
        if (options.MaximumKeyLength is < 1 or > 64 * 1024)
        {
            failures.Add($"MaximumKeyLength must be between 1 and 65536; it is {options.MaximumKeyLength}.");
        }

        if (options.MaximumPayloadBytes is < 1 or > int.MaxValue)
        {
            failures.Add($"MaximumPayloadBytes must be between 1 and {int.MaxValue}; it is {options.MaximumPayloadBytes}.");
        }

        if (options.DefaultEntryOptions is { } entry)
        {
            if (entry.Expiration is { } expiration && expiration <= TimeSpan.Zero)
            {
                failures.Add($"DefaultEntryOptions.Expiration must be positive; it is {expiration}.");
            }

            if (entry.LocalCacheExpiration is { } local && local <= TimeSpan.Zero)
            {
                failures.Add($"DefaultEntryOptions.LocalCacheExpiration must be positive; it is {local}.");
            }

            if (entry.Flags is { } flags && (flags & ~OptimizedHybridCache.AllFlags) != 0)
            {
                failures.Add($"DefaultEntryOptions.Flags has undefined bits: 0x{(int)flags:X}.");
            }
        }

        if (options.L1MaximumBytes is < 1024)
        {
            failures.Add($"L1MaximumBytes must be at least 1024; it is {options.L1MaximumBytes}.");
        }

        if (options.L1MemoryFraction is <= 0 or > 0.9 || double.IsNaN(options.L1MemoryFraction))
        {
            failures.Add($"L1MemoryFraction must be above 0 and at most 0.9; it is {options.L1MemoryFraction}.");
        }

        if (options.MemoryPressureThreshold is <= 0 or > 1 || double.IsNaN(options.MemoryPressureThreshold))
        {
            failures.Add($"MemoryPressureThreshold must be above 0 and at most 1; it is {options.MemoryPressureThreshold}.");
        }

        if (options.L1PressureShrinkFactor is <= 0 or > 1 || double.IsNaN(options.L1PressureShrinkFactor))
        {
            failures.Add($"L1PressureShrinkFactor must be above 0 and at most 1; it is {options.L1PressureShrinkFactor}.");
        }

        if (options.MaintenanceInterval < TimeSpan.FromMilliseconds(100) || options.MaintenanceInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"MaintenanceInterval must be between 100 ms and 1 hour; it is {options.MaintenanceInterval}.");
        }

        if (options.EagerRefreshThreshold is <= 0 or > 1 || double.IsNaN(options.EagerRefreshThreshold))
        {
            failures.Add($"EagerRefreshThreshold must be above 0 and at most 1; it is {options.EagerRefreshThreshold}.");
        }

        if (options.FailSafeMaxStaleness < TimeSpan.Zero)
        {
            failures.Add($"FailSafeMaxStaleness must not be negative; it is {options.FailSafeMaxStaleness}.");
        }

        if (string.IsNullOrWhiteSpace(options.KeyPrefix) || options.KeyPrefix.Length > 64 || options.KeyPrefix.Any(char.IsControl)
            || options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            // braces would make the prefix the Redis Cluster hash tag of every key, in place of the bucket's
            failures.Add($"KeyPrefix must be 1 to 64 printable characters without '{{' or '}}'; it is '{options.KeyPrefix}'.");
        }

        if (options.RedisConnectionString is { } redis && string.IsNullOrWhiteSpace(redis))
        {
            failures.Add("RedisConnectionString must be null (L1 only) or a connection string; it is blank.");
        }

        if (options.DataTypePrefixes.Count > MaximumDataTypes)
        {
            failures.Add($"DataTypePrefixes may hold at most {MaximumDataTypes} prefixes; it holds {options.DataTypePrefixes.Count}.");
        }

        foreach (var (prefix, dataType) in options.DataTypePrefixes)
        {
            if (string.IsNullOrEmpty(prefix) || string.IsNullOrWhiteSpace(dataType) || dataType.Length > 64)
            {
                failures.Add($"DataTypePrefixes entry '{prefix}' → '{dataType}' needs a non-empty prefix and a data type of 1 to 64 characters.");
            }
        }

        if (options.TopKeysCapacity is < 1 or > 10_000)
        {
            failures.Add($"TopKeysCapacity must be between 1 and 10000; it is {options.TopKeysCapacity}.");
        }

        if (options.MaximumTagsPerEntry is < 0 or > 1024)
        {
            failures.Add($"MaximumTagsPerEntry must be between 0 and 1024; it is {options.MaximumTagsPerEntry}.");
        }

        if (options.MaximumTrackedTags is < 16 or > 10_000_000)
        {
            failures.Add($"MaximumTrackedTags must be between 16 and 10000000; it is {options.MaximumTrackedTags}.");
        }

        failures.AddRange(options.Resilience.Validate());
        if (options.L2MaximumExpiration < TimeSpan.FromSeconds(1) || options.L2MaximumExpiration > TimeSpan.FromDays(365))
        {
            failures.Add($"L2MaximumExpiration must be between 1 second and 365 days; it is {options.L2MaximumExpiration}.");
        }

        if (options.TagTimeRefreshInterval < TimeSpan.FromMilliseconds(10) || options.TagTimeRefreshInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"TagTimeRefreshInterval must be between 10 ms and 1 hour; it is {options.TagTimeRefreshInterval}.");
        }

        if (options.MaximumCachedTagTimes is < 16 or > 10_000_000)
        {
            failures.Add($"MaximumCachedTagTimes must be between 16 and 10000000; it is {options.MaximumCachedTagTimes}.");
        }

        if (!(options.TtlVariationFactor is >= 0 and <= 0.5))
        {
            failures.Add($"TtlVariationFactor must be between 0 and 0.5; it is {options.TtlVariationFactor}.");
        }

        foreach (var (dataType, multiplier) in options.DataTypeTtlMultipliers)
        {
            if (string.IsNullOrWhiteSpace(dataType) || dataType.Length > 64 || !double.IsFinite(multiplier) || multiplier <= 0 || multiplier > 100)
            {
                failures.Add($"DataTypeTtlMultipliers['{dataType}'] must name a data type of 1 to 64 characters with a multiplier above 0 and at most 100; it is {multiplier}.");
            }
        }

        if (options.RedisConnectionString is { Length: > 0 } connectionString && !string.IsNullOrWhiteSpace(connectionString))
        {
            if (options.ConnectionMultiplexerFactory is not null)
            {
                failures.Add("RedisConnectionString and ConnectionMultiplexerFactory are both set; set one.");
            }

            try
            {
                RedisConnectionString.Parse(connectionString);
            }
            catch (ArgumentException ex)
            {
                // the message names the offending part with any password masked
                failures.Add($"RedisConnectionString is invalid: {ex.Message}");
            }
        }

        failures.AddRange(Invalidation.DependencyRuleSet.Validate(options.DependencyRules));
        if (options.InvalidationQueueCapacity is < 16 or > 10_000_000)
        {
            failures.Add($"InvalidationQueueCapacity must be between 16 and 10000000; it is {options.InvalidationQueueCapacity}.");
        }

        if (options.RemovalTombstoneWindow < TimeSpan.FromSeconds(1) || options.RemovalTombstoneWindow > TimeSpan.FromHours(1))
        {
            failures.Add($"RemovalTombstoneWindow must be between 1 second and 1 hour; it is {options.RemovalTombstoneWindow}.");
        }

        if (options.MaximumRemovalTombstones is < 16 or > 10_000_000)
        {
            failures.Add($"MaximumRemovalTombstones must be between 16 and 10000000; it is {options.MaximumRemovalTombstones}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
