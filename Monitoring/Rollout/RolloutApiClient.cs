using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace OptimizedCache.Monitoring.Rollout;

/// <summary>The rollout as the Api's <c>GET /admin/rollout</c> reports it.</summary>
/// <param name="Phase">The current phase.</param>
/// <param name="Plan">The plan's name.</param>
/// <param name="Features">Flag name → percentage.</param>
/// <param name="Since">When the phase in force began (its latest change in the history), if the history says.</param>
/// <param name="Changes">The latest changes, newest first (at most <see cref="RolloutApiClient.MaxChanges"/>).</param>
public sealed record RolloutState(
    int Phase, string? Plan, IReadOnlyDictionary<string, double> Features, DateTimeOffset? Since = null, IReadOnlyList<RolloutChange>? Changes = null);

/// <summary>One change in the Api's rollout history: who, when, from which phase to which, and why.</summary>
public sealed record RolloutChange(DateTimeOffset At, string Actor, string Action, int From, int To, string Reason);

/// <summary>What an admin call answered: its status and (bounded) body, passed on to the panel as is.</summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="Body">The body, at most 64 KiB.</param>
/// <param name="ContentType">The body's content type.</param>
public sealed record AdminCallResult(int StatusCode, string Body, string? ContentType)
{
    /// <summary>Whether the call succeeded.</summary>
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>The Api could not be reached or timed out.</summary>
public sealed class RolloutApiUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A typed client for the Api's admin endpoints (docs/admin-api.md). Sends the configured key as <c>X-Api-Key</c>;
/// the key never appears in exceptions or logs.
/// </summary>
public sealed class RolloutApiClient(HttpClient http)
{
    /// <summary>The Api actor name recorded for the guard's changes.</summary>
    public const string GuardActor = "rollout-guard";

    /// <summary>The Api actor name recorded for changes made from the control panel.</summary>
    public const string PanelActor = "control-panel";

    private const int MaxBodyChars = 64 * 1024;

    /// <summary>Changes of the Api's history kept for the panel.</summary>
    public const int MaxChanges = 20;

    /// <summary>Reads the current rollout.</summary>
    public async Task<RolloutState> GetRolloutAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/rollout");
        var result = await SendAsync(request, cancellationToken);
        if (!result.Succeeded)
        {
            throw new RolloutApiUnavailableException($"GET /admin/rollout answered {result.StatusCode}: {Truncate(result.Body, 300)}");
        }

        try
        {
            using var document = JsonDocument.Parse(result.Body);
            var root = document.RootElement;
            var phase = root.GetProperty("phase").GetInt32();
            var plan = root.TryGetProperty("plan", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var features = new Dictionary<string, double>(StringComparer.Ordinal);
            if (root.TryGetProperty("features", out var f) && f.ValueKind == JsonValueKind.Object)
            {
                foreach (var feature in f.EnumerateObject().Take(64))
                {
                    if (feature.Value.ValueKind == JsonValueKind.Number)
                    {
                        features[feature.Name] = feature.Value.GetDouble();
                    }
                }
            }

            DateTimeOffset? since = null;
            if (root.TryGetProperty("history", out var history) && history.ValueKind == JsonValueKind.Array && history.GetArrayLength() > 0
                && history[0].TryGetProperty("to", out var to) && to.ValueKind == JsonValueKind.Number && to.GetInt32() == phase
                && history[0].TryGetProperty("at", out var at) && at.TryGetDateTimeOffset(out var began))
            {
                since = began;
            }

            var changes = new List<RolloutChange>();
            if (root.TryGetProperty("history", out var entries) && entries.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in entries.EnumerateArray().Take(MaxChanges))
                {
                    if (entry.Deserialize<RolloutChange>(JsonSerializerOptions.Web) is { } change)
                    {
                        changes.Add(change with { Actor = Truncate(change.Actor ?? "", 100), Reason = Truncate(change.Reason ?? "", 500) });
                    }
                }
            }

            return new RolloutState(phase, plan, features, since, changes);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new RolloutApiUnavailableException($"GET /admin/rollout answered something that is not a rollout: {e.Message}", e);
        }
    }

    /// <summary>
    /// Calls <c>POST /admin/rollout/{action}</c>: <c>advance</c>, or <c>rollback</c> with <paramref name="scope"/>
    /// (<c>current</c> or <c>complete</c>). With <paramref name="from"/>, the Api refuses (409) unless that is the
    /// phase in force, so a decision made on one phase never moves another.
    /// </summary>
    public Task<AdminCallResult> ChangeRolloutAsync(string action, string? scope, string reason, string actor, int? from, CancellationToken cancellationToken)
    {
        var path = action switch
        {
            "advance" => "admin/rollout/advance",
            "rollback" when scope is "current" or "complete" => "admin/rollout/rollback?scope=" + scope,
            "rollback" => throw new ArgumentException($"Unknown rollback scope '{scope}'; use 'current' or 'complete'.", nameof(scope)),
            _ => throw new ArgumentException($"Unknown rollout action '{action}'; use 'advance' or 'rollback'.", nameof(action)),
        };
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = JsonContent.Create(new { reason = Truncate(reason, 500), from }),
        };
        request.Headers.Add("X-Actor", actor);
        return SendDisposingAsync(request, cancellationToken);
    }

    private async Task<AdminCallResult> SendDisposingAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            return await SendAsync(request, cancellationToken);
        }
    }

    private async Task<AdminCallResult> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[MaxBodyChars];
            var read = await reader.ReadBlockAsync(buffer, cancellationToken);
            return new AdminCallResult((int)response.StatusCode, new string(buffer, 0, read), response.Content.Headers.ContentType?.ToString());
        }
        catch (HttpRequestException e)
        {
            throw new RolloutApiUnavailableException($"The Api at {http.BaseAddress} is unreachable: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RolloutApiUnavailableException($"The Api at {http.BaseAddress} did not answer within {http.Timeout.TotalSeconds:0.#} s.", e);
        }
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
