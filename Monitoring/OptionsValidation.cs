using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using OptimizedCache.Monitoring.Guard;

namespace OptimizedCache.Monitoring;

/// <summary>Start-up validation of Monitoring's options; every message names the setting and the bad value.</summary>
internal sealed partial class OptionsValidation : IValidateOptions<MonitoringOptions>, IValidateOptions<GuardOptions>
{
    public ValidateOptionsResult Validate(string? name, MonitoringOptions options)
    {
        var errors = new List<string>();
        CheckUrl(errors, "Monitoring:Prometheus", options.Prometheus);
        CheckUrl(errors, "Monitoring:Api", options.Api);
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            errors.Add("Monitoring:ApiKey is required (the Api's Admin:ApiKey).");
        }

        CheckPositive(errors, "Monitoring:PrometheusTimeout", options.PrometheusTimeout);
        CheckPositive(errors, "Monitoring:ApiTimeout", options.ApiTimeout);
        CheckPositive(errors, "Monitoring:ScrapeInterval", options.ScrapeInterval);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public ValidateOptionsResult Validate(string? name, GuardOptions options)
    {
        var errors = new List<string>();
        CheckPositive(errors, "Monitoring:Guard:Interval", options.Interval);
        if (options.Window < TimeSpan.FromSeconds(1) || options.Window.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            errors.Add($"Monitoring:Guard:Window must be a whole number of seconds, at least 1; got '{options.Window}'.");
        }

        if (!string.IsNullOrEmpty(options.Selector) && !SelectorPattern().IsMatch(options.Selector))
        {
            errors.Add($"Monitoring:Guard:Selector must be PromQL label matchers such as job=\"api\",env=~\"prod.*\"; got '{options.Selector}'.");
        }

        if (options.MinimumRequests < 1)
        {
            errors.Add($"Monitoring:Guard:MinimumRequests must be at least 1; got {options.MinimumRequests}.");
        }

        if (options.Cooldown < TimeSpan.Zero)
        {
            errors.Add($"Monitoring:Guard:Cooldown must not be negative; got '{options.Cooldown}'.");
        }

        if (options.HistoryCapacity is < 1 or > 100_000)
        {
            errors.Add($"Monitoring:Guard:HistoryCapacity must be between 1 and 100000; got {options.HistoryCapacity}.");
        }

        if (string.IsNullOrWhiteSpace(options.BaselinePath))
        {
            errors.Add("Monitoring:Guard:BaselinePath must name a file.");
        }

        var t = options.Triggers;
        CheckRange(errors, "Monitoring:Guard:Triggers:ErrorRateIncreasePoints", t.ErrorRateIncreasePoints, 0, 100);
        CheckRange(errors, "Monitoring:Guard:Triggers:LatencyIncreasePercent", t.LatencyIncreasePercent, 0, 10_000);
        CheckRange(errors, "Monitoring:Guard:Triggers:LatencyQuantile", t.LatencyQuantile, 0.01, 0.999);
        CheckRange(errors, "Monitoring:Guard:Triggers:MemoryPlanPercent", t.MemoryPlanPercent, 1, 10_000);
        CheckRange(errors, "Monitoring:Guard:Triggers:HitRatioMinimumPercent", t.HitRatioMinimumPercent, 0, 100);
        if (t.PlannedMemoryBytes is <= 0)
        {
            errors.Add($"Monitoring:Guard:Triggers:PlannedMemoryBytes must be positive when set; got {t.PlannedMemoryBytes}.");
        }

        var g = options.Targets;
        CheckRange(errors, "Monitoring:Guard:Targets:HitRatePercent", g.HitRatePercent, 0, 100);
        CheckRange(errors, "Monitoring:Guard:Targets:ApiCallReductionPercent", g.ApiCallReductionPercent, 0, 100);
        CheckRange(errors, "Monitoring:Guard:Targets:ResponseTimeImprovementPercent", g.ResponseTimeImprovementPercent, 0, 100);
        CheckRange(errors, "Monitoring:Guard:Targets:MemoryWarnPercent", g.MemoryWarnPercent, 0, 10_000);
        CheckRange(errors, "Monitoring:Guard:Targets:MemoryAlertPercent", g.MemoryAlertPercent, g.MemoryWarnPercent, 10_000);
        CheckRange(errors, "Monitoring:Guard:Targets:ErrorRatePercent", g.ErrorRatePercent, 0, 100);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckUrl(List<string> errors, string setting, Uri? value)
    {
        if (value is null || !value.IsAbsoluteUri || (value.Scheme != Uri.UriSchemeHttp && value.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{setting} must be an absolute http(s) URL; got '{value}'.");
        }
    }

    private static void CheckPositive(List<string> errors, string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{setting} must be positive; got '{value}'.");
        }
    }

    private static void CheckRange(List<string> errors, string setting, double value, double min, double max)
    {
        if (double.IsNaN(value) || value < min || value > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{setting} must be between {min} and {max}; got {value}."));
        }
    }

    [GeneratedRegex("""^\s*[A-Za-z_][A-Za-z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*(,\s*[A-Za-z_][A-Za-z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*)*$""")]
    private static partial Regex SelectorPattern();
}
