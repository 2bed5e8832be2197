using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace OptimizedCache.Api.Origin;

/// <summary>
/// The store origin as one remote server every replica shares (the origin server role, <c>/origin/...</c>),
/// as a real deployment shares one store: a write through one replica is what the next read through any
/// other finds. HTTP outcomes map onto the origin's failures as the in-process store raises them: 429 is
/// <see cref="OriginFailure.RateLimited"/> with its Retry-After, 5xx is <see cref="OriginFailure.ServerError"/>,
/// a refused or dropped connection or a timeout is <see cref="OriginFailure.Unavailable"/>; 404 is "no such
/// entity" and other 4xx are the store's refusals (<see cref="StoreRejectedException"/>).
/// </summary>
public sealed class HttpStoreOrigin : IStoreOrigin, IOriginControl
{
    /// <summary>The JSON shape both ends use: web defaults, enums as names.</summary>
    public static readonly JsonSerializerOptions Json = CreateJsonOptions();

    private const int MaxDetailLength = 300;

    private readonly HttpClient _http;
    private readonly string? _apiKey;

    /// <summary>Creates the origin over <paramref name="http"/>, whose base address is the origin server's.</summary>
    public HttpStoreOrigin(HttpClient http, IOptions<OriginConnectionOptions> options, IOptions<Admin.AdminOptions> admin)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(admin);
        _http = http;
        _apiKey = options.Value.ApiKey is { Length: > 0 } own ? own : admin.Value.ApiKey;
    }

    /// <inheritdoc />
    public async ValueTask<StoreStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        await SendAsync<StoreStatus>(HttpMethod.Get, "origin/status", null, cancellationToken) ?? throw NotFound("origin/status");

    /// <inheritdoc />
    public async ValueTask<StoreMetrics> GetMetricsAsync(CancellationToken cancellationToken) =>
        await SendAsync<StoreMetrics>(HttpMethod.Get, "origin/metrics", null, cancellationToken) ?? throw NotFound("origin/metrics");

    /// <inheritdoc />
    public async ValueTask<ProductPage> GetProductsAsync(int page, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var path = string.Create(CultureInfo.InvariantCulture, $"origin/products?page={page}&pageSize={pageSize}");
        return await SendAsync<ProductPage>(HttpMethod.Get, path, null, cancellationToken) ?? throw NotFound("origin/products");
    }

    /// <inheritdoc />
    public ValueTask<Product?> GetProductAsync(long id, CancellationToken cancellationToken) =>
        SendAsync<Product>(HttpMethod.Get, Path("products", id), null, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<CollectionSummary>> GetCollectionsAsync(CancellationToken cancellationToken) =>
        await SendAsync<CollectionSummary[]>(HttpMethod.Get, "origin/collections", null, cancellationToken) ?? throw NotFound("origin/collections");

    /// <inheritdoc />
    public ValueTask<Collection?> GetCollectionAsync(long id, CancellationToken cancellationToken) =>
        SendAsync<Collection>(HttpMethod.Get, Path("collections", id), null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<Customer?> GetCustomerAsync(long id, CancellationToken cancellationToken) =>
        SendAsync<Customer>(HttpMethod.Get, Path("customers", id), null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<Order?> GetOrderAsync(long id, CancellationToken cancellationToken) =>
        SendAsync<Order>(HttpMethod.Get, Path("orders", id), null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<CustomerOrders?> GetCustomerOrdersAsync(long customerId, CancellationToken cancellationToken) =>
        SendAsync<CustomerOrders>(HttpMethod.Get, Path("customers", customerId, "orders"), null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<Recommendations?> GetRecommendationsAsync(long customerId, CancellationToken cancellationToken) =>
        SendAsync<Recommendations>(HttpMethod.Get, Path("customers", customerId, "recommendations"), null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<InventoryLevel?> GetInventoryAsync(long productId, CancellationToken cancellationToken) =>
        SendAsync<InventoryLevel>(HttpMethod.Get, Path("inventory", productId), null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<Product?> UpdateProductAsync(long id, ProductUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        return SendAsync<Product>(HttpMethod.Put, Path("products", id), JsonContent.Create(update, options: Json), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<InventoryLevel?> AdjustInventoryAsync(long productId, int delta, CancellationToken cancellationToken) =>
        SendAsync<InventoryLevel>(
            HttpMethod.Post, Path("inventory", productId, "adjust"), JsonContent.Create(new InventoryAdjustment(delta), options: Json), cancellationToken);

    /// <inheritdoc />
    public async ValueTask<Order> CreateOrderAsync(NewOrder order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        return await SendAsync<Order>(HttpMethod.Post, "origin/orders", JsonContent.Create(order, options: Json), cancellationToken)
            ?? throw new StoreRejectedException(404, "The store does not know the order's customer or products.");
    }

    /// <inheritdoc />
    public async ValueTask<OriginStatus> GetOriginStatusAsync(CancellationToken cancellationToken) =>
        Shared(await SendAsync<OriginStatus>(HttpMethod.Get, "origin/behavior", null, cancellationToken, sendKey: true) ?? throw NotFound("origin/behavior"));

    /// <inheritdoc />
    public async ValueTask<OriginStatus> SetBehaviorAsync(OriginBehavior behavior, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(behavior);
        return Shared(await SendAsync<OriginStatus>(HttpMethod.Put, "origin/behavior", JsonContent.Create(behavior, options: Json), cancellationToken, sendKey: true)
            ?? throw NotFound("origin/behavior"));
    }

    private OriginStatus Shared(OriginStatus status) => status with { Location = OriginStatus.Shared, Url = _http.BaseAddress };

    private async ValueTask<T?> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken, bool sendKey = false)
        where T : class
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (sendKey && _apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", _apiKey);
        }

        try
        {
            // The whole body is read within HttpClient.Timeout and MaxResponseContentBufferSize.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            switch (response.StatusCode)
            {
                case >= HttpStatusCode.OK and < HttpStatusCode.MultipleChoices:
                    return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                        ?? throw new StoreOriginException(OriginFailure.ServerError, $"The store answered {path} with an empty body.");
                case HttpStatusCode.NotFound:
                    return null;
                case HttpStatusCode.TooManyRequests:
                    throw new StoreOriginException(OriginFailure.RateLimited, "The store answered 429 Too Many Requests.", RetryAfter(response));
                case >= HttpStatusCode.InternalServerError:
                    throw new StoreOriginException(
                        OriginFailure.ServerError, $"The store answered {(int)response.StatusCode} {response.ReasonPhrase}.");
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    throw new StoreOriginException(
                        OriginFailure.ServerError, $"The store refused this replica's key ({(int)response.StatusCode}); Origin:ApiKey or Admin:ApiKey must match the origin server's Admin:ApiKey.");
                default:
                    throw new StoreRejectedException((int)response.StatusCode, await DetailAsync(response, cancellationToken));
            }
        }
        catch (HttpRequestException e)
        {
            throw new StoreOriginException(
                OriginFailure.Unavailable, $"The store could not be reached ({e.HttpRequestError}).", retryAfter: null, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StoreOriginException(
                OriginFailure.Unavailable, $"The store did not answer within {_http.Timeout.TotalSeconds:0.###} s.", retryAfter: null, e);
        }
        catch (JsonException e)
        {
            throw new StoreOriginException(OriginFailure.ServerError, $"The store's answer to {path} is not the expected JSON.", retryAfter: null, e);
        }
    }

    private static TimeSpan RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } when date > DateTimeOffset.UtcNow => date - DateTimeOffset.UtcNow,
            _ => TimeSpan.FromSeconds(1),
        };

    private static async Task<string> DetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>(Json, cancellationToken);
            if (problem?.Detail is { Length: > 0 } detail)
            {
                return detail.Length > MaxDetailLength ? detail[..MaxDetailLength] : detail;
            }
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            // Not problem details; the status says enough.
        }

        return $"The store refused the request ({(int)response.StatusCode} {response.ReasonPhrase}).";
    }

    private static StoreOriginException NotFound(string path) =>
        new(OriginFailure.ServerError, $"The store has no {path} endpoint; is Origin:BaseUrl an origin server (Origin:Role=Server)?");

    private static string Path(string resource, long id, string? sub = null) =>
        string.Create(CultureInfo.InvariantCulture, $"origin/{resource}/{id}{(sub is null ? "" : "/" + sub)}");

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
