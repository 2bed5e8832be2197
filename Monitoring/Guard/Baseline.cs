using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>What phase-0 traffic (every request on the bypass path) looked like: the reference the triggers compare with.</summary>
/// <param name="TakenAt">When it was measured.</param>
/// <param name="WindowSeconds">The window it was measured over.</param>
/// <param name="Requests">Requests in that window.</param>
/// <param name="LatencySeconds">The latency quantile of every request (<paramref name="Quantile"/>), seconds.</param>
/// <param name="Quantile">Which quantile.</param>
/// <param name="ErrorRate">5xx responses per request (0 … 1).</param>
/// <param name="OriginCallsPerRequest">Origin calls per request.</param>
public sealed record Baseline(
    DateTimeOffset TakenAt,
    double WindowSeconds,
    double Requests,
    double? LatencySeconds,
    double Quantile,
    double ErrorRate,
    double? OriginCallsPerRequest);

/// <summary>
/// Keeps the baseline in memory and in a JSON file, so it survives restarts. The file is replaced atomically
/// (written beside it, then moved over it).
/// </summary>
public sealed class BaselineStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly string _path;
    private readonly Lock _lock = new();
    private Baseline? _current;

    /// <summary>Loads the baseline from <paramref name="path"/> when the file exists.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a baseline.</exception>
    public BaselineStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = System.IO.Path.GetFullPath(path);
        if (File.Exists(_path))
        {
            try
            {
                _current = JsonSerializer.Deserialize<Baseline>(File.ReadAllText(_path), Json);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"The baseline file '{_path}' is not valid JSON: {e.Message}", e);
            }
        }
    }

    /// <summary>The file.</summary>
    public string Path => _path;

    /// <summary>The baseline, or null when none has been taken.</summary>
    public Baseline? Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Replaces the baseline and persists it.</summary>
    public void Save(Baseline baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        lock (_lock)
        {
            var directory = System.IO.Path.GetDirectoryName(_path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            var temp = _path + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(baseline, Json));
            File.Move(temp, _path, overwrite: true);
            _current = baseline;
        }
    }
}
