using System.Text.Json.Serialization;
using Baton.Monitoring;
using Baton.Resilience;

namespace Baton.Gateway.Dashboard;

/// <summary>The body of <c>GET /admin/requests</c>: the last requests, newest first.</summary>
public sealed record RecentRequestsView(string Object, IReadOnlyList<RecentRequestView> Data);

/// <summary>One finished request in <c>GET /admin/requests</c>; never any of its content.</summary>
public sealed record RecentRequestView(
    DateTimeOffset Time,
    string? KeyId,
    string? KeyName,
    string RequestedModel,
    string Model,
    string? Deployment,
    int Status,
    string? ErrorCode,
    bool Stream,
    string Cache,
    bool Fallback,
    int Attempts,
    double LatencyMs,
    double? TimeToFirstTokenMs,
    int InputTokens,
    int OutputTokens,
    decimal? CostUsd)
{
    public static RecentRequestView From(CompletedRequest r) => new(r.Time, r.KeyId, r.KeyName, r.RequestedModel, r.Model, r.Deployment,
        r.Status, r.ErrorCode, r.Stream, r.Cache, r.Fallback, r.Attempts, Math.Round(r.LatencyMs, 1),
        r.TimeToFirstTokenMs is { } ttft ? Math.Round(ttft, 1) : null, r.InputTokens, r.OutputTokens, r.CostUsd);
}

/// <summary>The body of <c>GET /admin/deployments</c>.</summary>
public sealed record DeploymentsView(string Status, IReadOnlyList<DeploymentStateView> Deployments);

/// <summary>One deployment in <c>GET /admin/deployments</c>: its health and breaker (as in <c>/health/providers</c>) and its rate-limit headroom.</summary>
public sealed record DeploymentStateView : Endpoints.DeploymentStatusView
{
    /// <summary>The view of <paramref name="report"/>, with <paramref name="rateLimit"/>.</summary>
    public DeploymentStateView(DeploymentHealthReport report, RateLimitView rateLimit)
        : base(report)
    {
        RateLimit = rateLimit;
    }

    /// <summary>The deployment's limits and what is left of them now.</summary>
    [JsonPropertyOrder(1)]
    public RateLimitView RateLimit { get; init; }
}

/// <summary>
/// A deployment's limits and what is left of them now: remaining requests and tokens of its buckets (null when that
/// limit is not set), as a share of the limit in <c>*_headroom</c>, and calls in flight against <c>max_concurrency</c>.
/// </summary>
public sealed record RateLimitView(
    int? RequestsPerMinute,
    int? TokensPerMinute,
    int? MaxConcurrency,
    int InFlight,
    int? RemainingRequests,
    int? RemainingTokens,
    double? RequestsHeadroom,
    double? TokensHeadroom,
    DateTimeOffset? RequestsResetAt,
    DateTimeOffset? TokensResetAt);

/// <summary>The body of <c>GET /admin/budgets</c>.</summary>
public sealed record BudgetsView(string Object, IReadOnlyList<BudgetStateView> Data);

/// <summary>
/// One budget counter in its current window: its limits, what is spent and reserved by requests in flight, and the
/// share of the hard limit (else the soft one) used. <c>name</c> is the configured limit, or <c>key-budget</c> for a
/// virtual key's own budget.
/// </summary>
public sealed record BudgetStateView(
    string Name,
    string Scope,
    string? Subject,
    string? SubjectName,
    string Period,
    decimal? SoftUsd,
    decimal? HardUsd,
    decimal SpentUsd,
    decimal ReservedUsd,
    decimal? RemainingUsd,
    double? Used,
    DateTimeOffset? ResetsAt);

/// <summary>The body of <c>GET /admin/batches</c>: the newest batch jobs, and how many are still running.</summary>
public sealed record BatchJobsView(string Object, int Running, IReadOnlyList<Endpoints.BatchObjectView> Data);
