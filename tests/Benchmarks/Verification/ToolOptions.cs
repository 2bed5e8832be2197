using System.Globalization;
using System.Text;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>One option of a verification tool: <c>--name value</c>, or a flag when it takes no value.</summary>
/// <param name="Name">The name without the leading dashes.</param>
/// <param name="Help">One line for <c>--help</c>.</param>
/// <param name="Default">The value when the option is absent (null: none).</param>
/// <param name="IsFlag">True when the option takes no value.</param>
/// <param name="Repeatable">True when the option may be given more than once (values are collected).</param>
internal sealed record ToolOption(string Name, string Help, string? Default = null, bool IsFlag = false, bool Repeatable = false);

/// <summary>
/// The command line of a verification tool: <c>--name value</c> pairs and flags, <c>--help</c>. Unknown options and
/// missing values are usage errors (exit code 2) that name the offending argument.
/// </summary>
internal sealed class ToolOptions
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ToolOption> _spec;

    private ToolOptions(Dictionary<string, ToolOption> spec) => _spec = spec;

    /// <summary>Usage text: the synopsis, then one line per option with its default.</summary>
    public static string Usage(string tool, string summary, IReadOnlyList<ToolOption> options)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"usage: {tool} [options]");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {summary}");
        foreach (var o in options)
        {
            var left = o.IsFlag ? $"--{o.Name}" : $"--{o.Name} <value>";
            var suffix = o.Default is null ? string.Empty : $" (default: {o.Default})";
            text.AppendLine(CultureInfo.InvariantCulture, $"  {left,-28} {o.Help}{suffix}");
        }

        text.AppendLine("  --help                       this text");
        return text.ToString();
    }

    /// <summary>Parses <paramref name="args"/>; returns false with a message naming the bad argument, or when <c>--help</c> was asked (message null).</summary>
    public static bool TryParse(string[] args, IReadOnlyList<ToolOption> options, out ToolOptions parsed, out string? error)
    {
        var spec = options.ToDictionary(o => o.Name, StringComparer.Ordinal);
        parsed = new ToolOptions(spec);
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                return false;
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = arg.StartsWith("--", StringComparison.Ordinal) ? (eq > 0 ? arg[2..eq] : arg[2..]) : null;
            if (name is null || !spec.TryGetValue(name, out var option))
            {
                error = $"unknown argument '{arg}'";
                return false;
            }

            string value;
            if (option.IsFlag)
            {
                value = eq > 0 ? arg[(eq + 1)..] : "true";
            }
            else if (eq > 0)
            {
                value = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Length)
            {
                value = args[++i];
            }
            else
            {
                error = $"option '--{name}' needs a value";
                return false;
            }

            if (!parsed._values.TryGetValue(name, out var list))
            {
                parsed._values[name] = list = [];
            }
            else if (!option.Repeatable)
            {
                error = $"option '--{name}' given twice";
                return false;
            }

            list.Add(value);
        }

        return true;
    }

    /// <summary>True when the option was given on the command line.</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The value given, or the default.</summary>
    public string? Get(string name) =>
        _values.TryGetValue(name, out var list) ? list[^1] : Spec(name).Default;

    /// <summary>Every value given for a repeatable option (comma-separated values are split), or the default's.</summary>
    public IReadOnlyList<string> GetAll(string name)
    {
        var raw = _values.TryGetValue(name, out var list) ? list : Spec(name).Default is { } d ? [d] : [];
        return [.. raw.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
    }

    /// <summary>The value, required: throws <see cref="ArgumentException"/> naming the option when absent.</summary>
    public string Required(string name) =>
        Get(name) is { Length: > 0 } v ? v : throw new ArgumentException($"option '--{name}' is required", name);

    /// <summary>A flag's state.</summary>
    public bool Flag(string name) => Get(name) is "true" or "1" or "yes";

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Int(string name, int min = 0, int max = int.MaxValue)
    {
        var text = Required(name);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : throw new ArgumentException($"option '--{name}' must be a whole number from {min} to {max}; got '{text}'", name);
    }

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public double Double(string name, double min = double.MinValue, double max = double.MaxValue)
    {
        var text = Required(name);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= min && v <= max
            ? v
            : throw new ArgumentException($"option '--{name}' must be a number from {min} to {max}; got '{text}'", name);
    }

    /// <summary>A duration such as <c>30s</c>, <c>5m</c>, <c>2h</c>, <c>500ms</c> or plain seconds.</summary>
    public TimeSpan Duration(string name)
    {
        var text = Required(name);
        return TryParseDuration(text, out var d) && d > TimeSpan.Zero
            ? d
            : throw new ArgumentException($"option '--{name}' must be a positive duration such as 30s, 5m, 2h; got '{text}'", name);
    }

    /// <summary>A duration that may be zero (<c>0</c> turns the thing off).</summary>
    public TimeSpan DurationOrZero(string name)
    {
        var text = Required(name);
        return TryParseDuration(text, out var d)
            ? d
            : throw new ArgumentException($"option '--{name}' must be a duration such as 0, 30s, 5m; got '{text}'", name);
    }

    /// <summary>An absolute http(s) URL (a trailing slash is dropped).</summary>
    public Uri Url(string name) => ParseUrl(Required(name), name);

    /// <summary>Every URL given for a repeatable option.</summary>
    public IReadOnlyList<Uri> Urls(string name)
    {
        var urls = GetAll(name).Select(u => ParseUrl(u, name)).ToList();
        return urls.Count > 0 ? urls : throw new ArgumentException($"option '--{name}' is required", name);
    }

    /// <summary>An absolute http(s) URL (a trailing slash is dropped), or an <see cref="ArgumentException"/> naming the option.</summary>
    public static Uri ParseUrl(string text, string name)
    {
        text = text.TrimEnd('/');
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"option '--{name}' must be an http(s) URL; got '{text}'", name);
    }

    /// <summary>Parses <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c> or a plain number of seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ when text.EndsWith('d') => (text[..^1], 86400.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0
            || value * scale > TimeSpan.FromDays(30).TotalSeconds)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }

    private ToolOption Spec(string name) =>
        _spec.TryGetValue(name, out var o) ? o : throw new InvalidOperationException($"option '{name}' is not declared");
}
