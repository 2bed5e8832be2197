using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;

namespace OptimizedCache.AppHost;

/// <summary>Wiring that would clutter the top-down topology in AppHost.cs.</summary>
internal static class TopologyExtensions
{
    private const int MaxFailureDetailLength = 300;

    /// <summary>
    /// Has a service push its metrics to Prometheus' OTLP receiver, besides the OTLP export to the Aspire
    /// dashboard that Aspire configures through OTEL_EXPORTER_OTLP_ENDPOINT. ServiceDefaults adds the second
    /// exporter (OTLP over HTTP/protobuf, which is all the receiver accepts) when
    /// <c>Telemetry:PrometheusOtlpEndpoint</c> is set. The standard OTEL_EXPORTER_OTLP_METRICS_ENDPOINT would
    /// move the metrics away from the dashboard instead of copying them, and the OpenTelemetry packages
    /// ServiceDefaults builds on only honour it through UseOtlpExporter.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithMetricsPushedTo(
        this IResourceBuilder<ProjectResource> service, IResourceBuilder<ContainerResource> prometheus) =>
        service
            .WithEnvironment("Telemetry__PrometheusOtlpEndpoint", $"{prometheus.GetEndpoint("http")}/api/v1/otlp/v1/metrics")
            // Five-second samples, as the scrape interval is elsewhere; the rollout guard judges 1-minute windows.
            .WithEnvironment("OTEL_METRIC_EXPORT_INTERVAL", "5000");

    /// <summary>Lets anyone view the provisioned dashboards and nobody sign in or change them.</summary>
    public static IResourceBuilder<T> WithAnonymousReadOnlyAccess<T>(this IResourceBuilder<T> grafana)
        where T : IResourceWithEnvironment =>
        grafana
            .WithEnvironment("GF_AUTH_ANONYMOUS_ENABLED", "true")
            .WithEnvironment("GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer")
            .WithEnvironment("GF_AUTH_DISABLE_LOGIN_FORM", "true")
            .WithEnvironment("GF_AUTH_BASIC_ENABLED", "false")
            .WithEnvironment("GF_USERS_ALLOW_SIGN_UP", "false");

    /// <summary>
    /// Dashboard commands that move the rollout through the Api's admin endpoints (docs/admin-api.md). Each
    /// asks for confirmation, sends the admin key and a reason, and reports the Api's answer. The phase lives
    /// in Redis and is published to every replica, so one call through the Api's endpoint is enough.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithRolloutCommands(
        this IResourceBuilder<ProjectResource> api, IResourceBuilder<ParameterResource> adminApiKey) =>
        api
            .WithAdminCommand(adminApiKey, RolloutCommandNames.Advance, "Advance rollout phase",
                "/admin/rollout/advance", query: null,
                "Advance the cache rollout to the next phase on every replica?", "ArrowForward")
            .WithAdminCommand(adminApiKey, RolloutCommandNames.RollBackCurrent, "Roll back current phase",
                "/admin/rollout/rollback", query: "scope=current",
                "Roll the cache rollout back by one phase on every replica?", "ArrowUndo")
            .WithAdminCommand(adminApiKey, RolloutCommandNames.RollBackComplete, "Roll back completely",
                "/admin/rollout/rollback", query: "scope=complete",
                "Switch the cache off on every replica (phase 0)?", "ArrowReset");

    private static IResourceBuilder<ProjectResource> WithAdminCommand(
        this IResourceBuilder<ProjectResource> api,
        IResourceBuilder<ParameterResource> adminApiKey,
        string name,
        string displayName,
        string path,
        string? query,
        string confirmation,
        string iconName) =>
        api.WithHttpCommand(path, displayName, endpointName: "http", commandName: name, commandOptions: new HttpCommandOptions
        {
            Description = $"POST {path}{(query is null ? "" : "?" + query)}",
            ConfirmationMessage = confirmation,
            IconName = iconName,
            Method = HttpMethod.Post,
            PrepareRequest = async context =>
            {
                var key = await adminApiKey.Resource.GetValueAsync(context.CancellationToken);
                context.Request.Headers.Add("X-Api-Key", key);
                context.Request.Headers.Add("X-Actor", "aspire-dashboard");
                if (query is not null)
                {
                    // WithHttpCommand sets the path through UriBuilder.Path, which would escape a '?'.
                    context.Request.RequestUri = new UriBuilder(context.Request.RequestUri!) { Query = query }.Uri;
                }

                // the phase in force when the command runs: a guard rollback between the click and the call makes it 409
                using var read = new HttpRequestMessage(HttpMethod.Get, new Uri(context.Request.RequestUri!, "/admin/rollout"));
                read.Headers.Add("X-Api-Key", key);
                using var current = await context.HttpClient.SendAsync(read, context.CancellationToken);
                int? from = current.IsSuccessStatusCode
                    ? (await current.Content.ReadFromJsonAsync<JsonElement>(context.CancellationToken)).GetProperty("phase").GetInt32()
                    : null;
                context.Request.Content = JsonContent.Create(new AdminChange($"{displayName} from the Aspire dashboard", from));
            },
            GetCommandResult = async context => context.Response.IsSuccessStatusCode
                ? CommandResults.Success()
                : CommandResults.Failure(await DescribeFailureAsync(context.Response, context.CancellationToken)),
        });

    /// <summary>Status line plus the problem details' detail (or title), so a 409 at the last phase reads as such.</summary>
    private static async Task<string> DescribeFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind == JsonValueKind.Object
                && (problem.RootElement.TryGetProperty("detail", out var text) || problem.RootElement.TryGetProperty("title", out text))
                && text.GetString() is { Length: > 0 } message)
            {
                return $"{status}: {(message.Length > MaxFailureDetailLength ? message[..MaxFailureDetailLength] : message)}";
            }
        }
        catch (JsonException)
        {
            // Not problem details; the status line says enough.
        }

        return status;
    }

    private sealed record AdminChange(string Reason, int? From);
}

/// <summary>Names of the Api's rollout commands, for the dashboard and for <c>ResourceCommandService</c>.</summary>
public static class RolloutCommandNames
{
    /// <summary>Phase + 1 (<c>POST /admin/rollout/advance</c>).</summary>
    public const string Advance = "rollout-advance";

    /// <summary>Phase − 1 (<c>POST /admin/rollout/rollback?scope=current</c>).</summary>
    public const string RollBackCurrent = "rollout-rollback-current";

    /// <summary>Phase 0 (<c>POST /admin/rollout/rollback?scope=complete</c>).</summary>
    public const string RollBackComplete = "rollout-rollback-complete";
}
