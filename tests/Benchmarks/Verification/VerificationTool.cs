using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>
/// Shared shape of the verification tools (verification/README.md): <c>--help</c>, usage errors as exit code 2,
/// checks printed one per line as PASS / FAIL / SKIP with the value, and a JSON result file under the results folder
/// (<c>--results</c>, default <c>verification/results</c>) that the report is built from. Exit code 1 when a check failed.
/// </summary>
public abstract class VerificationTool : IMeasuringTool
{
    private readonly List<Check> _checks = [];
    private DateTimeOffset _started;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract string Description { get; }

    /// <summary>The options specific to this tool (<c>--results</c> is added for every tool).</summary>
    internal abstract IReadOnlyList<ToolOption> Options { get; }

    /// <summary>The parsed command line.</summary>
    internal ToolOptions Args { get; private set; } = null!;

    /// <summary>The folder the JSON results (and charts) are written to.</summary>
    internal string ResultsDirectory { get; private set; } = "verification/results";

    /// <summary>The checks recorded so far.</summary>
    internal IReadOnlyList<Check> Checks => _checks;

    /// <inheritdoc />
    public async Task<int> RunAsync(string[] args)
    {
        IReadOnlyList<ToolOption> options = [.. Options, new ToolOption("results", "folder for the JSON result and charts", "verification/results")];
        if (!ToolOptions.TryParse(args, options, out var parsed, out var error))
        {
            var usage = ToolOptions.Usage(Name, Description, options);
            if (error is null)
            {
                Console.WriteLine(usage);
                return 0;
            }

            Console.Error.WriteLine($"{Name}: {error}");
            Console.Error.Write(usage);
            return 2;
        }

        Args = parsed;
        ResultsDirectory = parsed.Get("results")!;
        _started = DateTimeOffset.UtcNow;
        JsonObject data;
        try
        {
            Directory.CreateDirectory(ResultsDirectory);
            data = await ExecuteAsync();
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{Name}: {e.Message}");
            Console.Error.Write(ToolOptions.Usage(Name, Description, options));
            return 2;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException or TaskCanceledException)
        {
            Record(new Check("tool ran to completion", false, e.GetType().Name, e.Message));
            data = [];
        }

        var passed = _checks.All(c => c.Passed != false);
        var result = new JsonObject
        {
            ["tool"] = Name,
            ["startedAt"] = _started,
            ["finishedAt"] = DateTimeOffset.UtcNow,
            ["machine"] = new JsonObject
            {
                ["processors"] = Environment.ProcessorCount,
                ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["runtime"] = Environment.Version.ToString(),
            },
            ["arguments"] = new JsonArray([.. RedactSecrets(args).Select(a => (JsonNode?)JsonValue.Create(a))]),
            ["passed"] = passed,
            ["checks"] = new JsonArray([.. _checks.Select(c => (JsonNode?)c.ToJson())]),
            ["data"] = data,
        };
        var path = Path.Combine(ResultsDirectory, $"{Name}.json");
        await File.WriteAllTextAsync(path, result.ToJsonString(Json.Indented));
        Console.WriteLine();
        Console.WriteLine($"{Name}: {(passed ? "PASS" : "FAIL")} ({_checks.Count(c => c.Passed == true)} passed, {_checks.Count(c => c.Passed == false)} failed, "
            + $"{_checks.Count(c => c.Passed is null)} skipped); results in {path}");
        return passed ? 0 : 1;
    }

    /// <summary>Runs the tool; records checks with <see cref="Record"/>; returns the data for the result file.</summary>
    internal abstract Task<JsonObject> ExecuteAsync();

    /// <summary>Records a check and prints its line.</summary>
    internal Check Record(Check check)
    {
        _checks.Add(check);
        var status = check.Passed switch { true => "PASS", false => "FAIL", null => "SKIP" };
        Console.WriteLine($"{status,-4}  {check.Name}: {check.Value}{(check.Detail is null ? string.Empty : $"  ({check.Detail})")}");
        return check;
    }

    /// <summary>Prints a progress line (long work shows where it is).</summary>
    internal static void Progress(string message) =>
        Console.WriteLine($"  [{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] {message}");

    // Passwords and API keys must not land in the results (they may be committed as evidence).
    internal static IEnumerable<string> RedactSecrets(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (i > 0 && args[i - 1] is "--api-key" or "--monitoring-key")
            {
                yield return "***";
            }
            else if (arg.StartsWith("--api-key=", StringComparison.Ordinal) || arg.StartsWith("--monitoring-key=", StringComparison.Ordinal))
            {
                yield return arg[..(arg.IndexOf('=', StringComparison.Ordinal) + 1)] + "***";
            }
            else
            {
                yield return arg.Contains("password=", StringComparison.OrdinalIgnoreCase) ? RedactPassword(arg) : arg;
            }
        }
    }

    internal static string RedactPassword(string connectionString) =>
        string.Join(',', connectionString.Split(',').Select(p => p.StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=***" : p));
}

/// <summary>One verification check: passed (true), failed (false) or skipped (null), with the measured value.</summary>
/// <param name="Name">What was checked.</param>
/// <param name="Passed">The verdict; null when the check could not be run here.</param>
/// <param name="Value">The measured value, as shown.</param>
/// <param name="Detail">Why, or the threshold.</param>
internal sealed record Check(string Name, bool? Passed, string Value, string? Detail = null)
{
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["status"] = Passed switch { true => "pass", false => "fail", null => "skip" },
        ["value"] = Value,
        ["detail"] = Detail,
    };
}

/// <summary>JSON settings shared by the tools.</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>A number rounded for the result files (NaN and infinities become null).</summary>
    public static JsonNode? Num(double value, int digits = 3) =>
        double.IsFinite(value) ? JsonValue.Create(Math.Round(value, digits)) : null;

    /// <summary>A node's number whatever its CLR type (int, long, double, parsed JSON); NaN when null or not a number.</summary>
    public static double D(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.TryGetValue<decimal>(out var m) => (double)m,
        _ => double.NaN,
    };

    /// <summary>A number or null.</summary>
    public static JsonNode? Num(double? value, int digits = 3) => value is { } v ? Num(v, digits) : null;
}
