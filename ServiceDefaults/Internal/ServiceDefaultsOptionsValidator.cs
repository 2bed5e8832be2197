using Microsoft.Extensions.Options;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>Checks <see cref="ServiceDefaultsOptions"/> at start-up, naming the offending value.</summary>
internal sealed class ServiceDefaultsOptionsValidator : IValidateOptions<ServiceDefaultsOptions>
{
    private static readonly TimeSpan MaxScrapeCacheDuration = TimeSpan.FromMinutes(1);

    public ValidateOptionsResult Validate(string? name, ServiceDefaultsOptions options)
    {
        var failures = new List<string>();
        if (options.ScrapeCacheDuration < TimeSpan.Zero || options.ScrapeCacheDuration > MaxScrapeCacheDuration)
        {
            failures.Add($"{ServiceDefaultsOptions.SectionName}:{nameof(options.ScrapeCacheDuration)} is {options.ScrapeCacheDuration}; it must lie between 00:00:00 and {MaxScrapeCacheDuration}.");
        }

        if (options.MetricCardinalityLimit is < 1 or > 100_000)
        {
            failures.Add($"{ServiceDefaultsOptions.SectionName}:{nameof(options.MetricCardinalityLimit)} is {options.MetricCardinalityLimit}; it must lie between 1 and 100000.");
        }

        AddBlankNameFailures(failures, nameof(options.AdditionalMeters), options.AdditionalMeters);
        AddBlankNameFailures(failures, nameof(options.AdditionalActivitySources), options.AdditionalActivitySources);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void AddBlankNameFailures(List<string> failures, string property, IList<string> names)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
            {
                failures.Add($"{ServiceDefaultsOptions.SectionName}:{property}:{i} is '{names[i]}'; a meter or activity source name must not be blank.");
            }
        }
    }
}
