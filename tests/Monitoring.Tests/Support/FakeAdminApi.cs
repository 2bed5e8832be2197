using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OptimizedCache.Monitoring.Tests.Support;

/// <summary>One admin call the fake Api received.</summary>
public sealed record AdminCall(string Method, string Path, string? Scope, string? ApiKey, string? Actor, string? Reason, int? From = null);

/// <summary>
/// The Api's admin contract (docs/admin-api.md) on Kestrel, recording every call: <c>GET /admin/rollout</c>,
/// <c>POST /admin/rollout/advance</c>, <c>POST /admin/rollout/rollback?scope=</c>. It stands in for the Api's HTTP
/// surface only; Prometheus stays real.
/// </summary>
public sealed class FakeAdminApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _phase;

    private FakeAdminApi(WebApplication app, int phase)
    {
        _app = app;
        _phase = phase;
    }

    /// <summary>The key the fake expects.</summary>
    public const string Key = "test-admin-key-0123456789";

    /// <summary>The base URL.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every call, in order.</summary>
    public ConcurrentQueue<AdminCall> Calls { get; } = new();

    /// <summary>The rollback calls.</summary>
    public IReadOnlyList<AdminCall> Rollbacks => [.. Calls.Where(c => c.Path.EndsWith("/rollback", StringComparison.Ordinal))];

    /// <summary>The current phase.</summary>
    public int Phase => Volatile.Read(ref _phase);

    // the changes made, newest first, as the Api's history holds them (the guard reads when the phase began from it)
    private readonly List<object> _history = [];
    private DateTimeOffset? _since;

    /// <summary>Moves to <paramref name="phase"/> now, recording the change in the history the guard reads.</summary>
    public void ChangePhase(int phase, string actor = "test", string action = "set", string reason = "test")
    {
        var from = Phase;
        Volatile.Write(ref _phase, phase);
        _since = DateTimeOffset.UtcNow;
        lock (_history)
        {
            _history.Insert(0, new { at = _since, actor, action, from, to = phase, reason });
        }
    }

    /// <summary>Starts on a free loopback port at <paramref name="phase"/>.</summary>
    public static async Task<FakeAdminApi> StartAsync(int phase)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeAdminApi(app, phase);
        app.Use(async (context, next) =>
        {
            string? reason = null;
            int? from = null;
            if (context.Request.Method == "POST")
            {
                using var reader = new StreamReader(context.Request.Body);
                var text = await reader.ReadToEndAsync();
                if (text.Length > 0)
                {
                    using var body = JsonDocument.Parse(text);
                    reason = body.RootElement.TryGetProperty("reason", out var r) ? r.GetString() : null;
                    from = body.RootElement.TryGetProperty("from", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetInt32() : null;
                }
            }

            fake.Calls.Enqueue(new AdminCall(
                context.Request.Method, context.Request.Path, context.Request.Query["scope"], context.Request.Headers["X-Api-Key"],
                context.Request.Headers["X-Actor"], reason, from));
            if (context.Request.Headers["X-Api-Key"] != Key)
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new { title = "Unauthorized", status = 401 });
                return;
            }

            await next(context);
        });
        app.MapGet("/admin/rollout", () => fake.State());
        app.MapPost("/admin/rollout/advance", () =>
        {
            var call = fake.Calls.Last();
            fake.ChangePhase(fake.Phase + 1, call.Actor ?? "api-key", "advance", call.Reason ?? "");
            return fake.State();
        });
        app.MapPost("/admin/rollout/rollback", (string? scope) =>
        {
            if (scope == "complete")
            {
                var call = fake.Calls.Last();
                fake.ChangePhase(0, call.Actor ?? "api-key", "rollback-complete", call.Reason ?? "");
            }
            else if (fake.Phase > 0)
            {
                var call = fake.Calls.Last();
                fake.ChangePhase(fake.Phase - 1, call.Actor ?? "api-key", "rollback-current", call.Reason ?? "");
            }

            return fake.State();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseAddress = new Uri(address + "/");
        return fake;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private object[] HistorySnapshot()
    {
        lock (_history)
        {
            return [.. _history];
        }
    }

    private object State() => new
    {
        phase = Phase,
        plan = "seed000",
        history = HistorySnapshot(),
        features = new Dictionary<string, int>
        {
            ["Cache.Reads"] = Phase switch { 0 => 0, 1 => 10, _ => 100 },
            ["Cache.Writes"] = Phase switch { < 2 => 0, 2 => 10, _ => 100 },
        },
    };
}
