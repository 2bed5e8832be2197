using System.ComponentModel.DataAnnotations;

namespace OptimizedCache.Api.Rollout;

/// <summary>Rollout configuration, bound from <c>Rollout</c>.</summary>
public sealed class RolloutOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Rollout";

    /// <summary>The plan: <c>seed000</c> (the deployment guide's phases) or <c>risk</c> (phases by endpoint risk).</summary>
    /// <value>Default <c>seed000</c>.</value>
    [Required]
    public string Plan { get; set; } = "seed000";

    /// <summary>
    /// The phase a replica starts in while the store holds none and no peer has put one back (Redis empty or down,
    /// no replica running): it is not stored, and the first phase a replica decided replaces it. Outside the plan's
    /// phases, start-up fails naming the range.
    /// </summary>
    /// <value>Default 0 (cache off).</value>
    [Range(0, 19)]
    public int InitialPhase { get; set; }

    /// <summary>
    /// Prefix of the Redis keys and channel (<c>{prefix}:rollout:state</c>). Kept apart from the cache's key prefix
    /// (<c>oc</c>), so that no cache invalidation pattern (<c>oc:*</c> scans) can reach the rollout state.
    /// </summary>
    /// <value>Default <c>oc-control</c>.</value>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]{1,40}$")]
    public string KeyPrefix { get; set; } = "oc-control";

    /// <summary>Changes kept in the history.</summary>
    /// <value>Default 100.</value>
    [Range(1, 1000)]
    public int HistoryLimit { get; set; } = 100;

    /// <summary>
    /// How often the stored state is re-read (a safety net under the change notifications), an unsaved local change
    /// retried, and a state the store lost put back: every replica is back on the decided phase within about this
    /// long after Redis returns empty.
    /// </summary>
    /// <value>Default 2 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(2);
}
