namespace OptimizedCache.Api.Origin;

/// <summary>The origin's behaviour and rate-limit bucket, as <c>/admin/origin</c> shows it.</summary>
/// <param name="Behavior">Latency, rate limit, error injection.</param>
/// <param name="RateLimitLevel">Requests in the bucket now.</param>
/// <param name="Location">
/// <c>embedded</c>: this replica's own in-process store, which no other replica sees;
/// <c>shared</c>: the origin server every replica calls, at <paramref name="Url"/>.
/// </param>
/// <param name="Url">The shared origin's base URL, or null when embedded.</param>
public sealed record OriginStatus(OriginBehavior Behavior, double RateLimitLevel, string Location = OriginStatus.Embedded, Uri? Url = null)
{
    /// <summary><see cref="Location"/> of a store held in this process.</summary>
    public const string Embedded = "embedded";

    /// <summary><see cref="Location"/> of the origin server the replicas share.</summary>
    public const string Shared = "shared";
}

/// <summary>
/// An origin whose behaviour can be read and changed at run time (drills and tests): the embedded simulated
/// store directly, the shared origin server through its <c>/origin/behavior</c> endpoint.
/// </summary>
public interface IOriginControl
{
    /// <summary>The behaviour in force.</summary>
    ValueTask<OriginStatus> GetOriginStatusAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the behaviour; <paramref name="behavior"/> is already validated.</summary>
    ValueTask<OriginStatus> SetBehaviorAsync(OriginBehavior behavior, CancellationToken cancellationToken);
}
