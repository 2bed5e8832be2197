namespace OptimizedCache.Monitoring.Guard;

/// <summary>How the rollout guard evaluates the rollback triggers, bound from <c>Monitoring:Guard</c>.</summary>
public sealed class GuardOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Monitoring:Guard";

    /// <summary>Whether the guard evaluates at all. The status API and the panel still work when it is off.</summary>
    /// <value><see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Evaluate and record decisions, but never call the rollback endpoint.</summary>
    /// <value><see langword="false"/>.</value>
    public bool DryRun { get; set; }

    /// <summary>Time between two evaluations.</summary>
    /// <value>15 seconds.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The window every trigger is evaluated over (PromQL range), and the baseline is measured over.</summary>
    /// <value>5 minutes.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Label matchers added to every series the guard reads (<c>job="api"</c>), for a Prometheus that scrapes more
    /// than the Api being rolled out. Empty: every scraped series counts.
    /// </summary>
    /// <value>Empty.</value>
    public string Selector { get; set; } = string.Empty;

    /// <summary>Requests a trigger needs inside the window before it may fire; below it the trigger reports insufficient data.</summary>
    /// <value>200.</value>
    public int MinimumRequests { get; set; } = 200;

    /// <summary>
    /// Least time between two rollbacks. The effective cooldown is the larger of this and <see cref="Window"/>, so the
    /// evidence of one rollback (which stays in the window for a while) never causes a second one.
    /// </summary>
    /// <value>5 minutes.</value>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Roll back when a trigger's series are absent altogether at phase 1 or later (Prometheus answered, the Api
    /// exported nothing). Too few requests and an unreachable Prometheus never cause a rollback.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool RollbackOnMissingData { get; set; }

    /// <summary>Evaluations kept in the in-memory history.</summary>
    /// <value>500.</value>
    public int HistoryCapacity { get; set; } = 500;

    /// <summary>File the phase-0 baseline is persisted to, so it survives restarts.</summary>
    /// <value><c>data/rollout-baseline.json</c> (relative to the working directory).</value>
    public string BaselinePath { get; set; } = Path.Combine("data", "rollout-baseline.json");

    /// <summary>Rollback thresholds (seed 001 section 7.1).</summary>
    public TriggerThresholds Triggers { get; set; } = new();

    /// <summary>Performance targets shown on the panel and in the report (seed 001 sections 6.1 and 9).</summary>
    public TargetThresholds Targets { get; set; } = new();
}

/// <summary>The rollback triggers' thresholds.</summary>
public sealed class TriggerThresholds
{
    /// <summary>Error-rate rise over the reference, in percentage points, at which the error trigger fires.</summary>
    /// <value>0.5 points.</value>
    public double ErrorRateIncreasePoints { get; set; } = 0.5;

    /// <summary>How much slower (percent) the cached path's latency quantile must be than every reference to fire.</summary>
    /// <value>20 percent.</value>
    public double LatencyIncreasePercent { get; set; } = 20;

    /// <summary>The latency quantile compared.</summary>
    /// <value>0.95.</value>
    public double LatencyQuantile { get; set; } = 0.95;

    /// <summary>L1 memory, in percent of the plan, above which the memory trigger fires.</summary>
    /// <value>120 percent.</value>
    public double MemoryPlanPercent { get; set; } = 120;

    /// <summary>
    /// The planned L1 memory per replica in bytes. When unset, each replica's own
    /// <c>optimizedcache_l1_budget_bytes</c> is the plan.
    /// </summary>
    /// <value>Unset.</value>
    public long? PlannedMemoryBytes { get; set; }

    /// <summary>Hit ratio, in percent, below which the hit-ratio trigger fires.</summary>
    /// <value>40 percent.</value>
    public double HitRatioMinimumPercent { get; set; } = 40;
}

/// <summary>The rollout's performance targets.</summary>
public sealed class TargetThresholds
{
    /// <summary>Hit rate to reach, percent.</summary>
    /// <value>60 percent.</value>
    public double HitRatePercent { get; set; } = 60;

    /// <summary>Origin (API) call reduction per request against the bypass path, percent.</summary>
    /// <value>50 percent.</value>
    public double ApiCallReductionPercent { get; set; } = 50;

    /// <summary>Latency improvement of the cached path against the baseline, percent.</summary>
    /// <value>30 percent.</value>
    public double ResponseTimeImprovementPercent { get; set; } = 30;

    /// <summary>L1 memory in percent of the plan at which the panel warns.</summary>
    /// <value>70 percent.</value>
    public double MemoryWarnPercent { get; set; } = 70;

    /// <summary>L1 memory in percent of the plan at which the panel alerts (fails).</summary>
    /// <value>90 percent.</value>
    public double MemoryAlertPercent { get; set; } = 90;

    /// <summary>Largest acceptable error rate, percent.</summary>
    /// <value>0.5 percent.</value>
    public double ErrorRatePercent { get; set; } = 0.5;
}
