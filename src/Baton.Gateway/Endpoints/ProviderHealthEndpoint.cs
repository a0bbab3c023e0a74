using System.Text.Json;
using System.Text.Json.Serialization;
using Baton.Resilience;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>GET /health/providers</c>: every deployment's health (seed 003's states, breaker, error rate, latency
/// percentiles, last error without secrets); with <c>?probe=true</c>, each deployment is also checked with a
/// minimal request first.
/// </summary>
internal static class ProviderHealthEndpoint
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static async Task<IResult> HandleAsync(HttpContext http, HealthReport health, bool? probe)
    {
        var reports = await health.CheckAsync(probe == true, http.RequestAborted);
        var body = new ProviderHealthResponse(HealthReport.Overall(reports), reports.Select(ToView).ToList());
        return Results.Json(body, Json);
    }

    public static DeploymentHealthView ToView(DeploymentHealthReport report) => new(report);

    /// <summary>Seed 003's names for the states.</summary>
    public static string StateName(HealthState state) => state switch
    {
        HealthState.Healthy => "HEALTHY",
        HealthState.Degraded => "DEGRADED",
        HealthState.Unavailable => "UNAVAILABLE",
        _ => "UNKNOWN",
    };
}

/// <summary>The body of <c>GET /health/providers</c>.</summary>
public sealed record ProviderHealthResponse(string Status, IReadOnlyList<DeploymentHealthView> Deployments);

/// <summary>
/// One deployment as the health views show it: which deployment it is, the models routing to it, and its health
/// (seed 003's state, the breaker, the error rate and latency percentiles of recent calls, the last error without
/// secrets). <c>GET /health/providers</c> adds the probe's result (<see cref="DeploymentHealthView"/>),
/// <c>GET /admin/deployments</c> the rate-limit headroom (<see cref="Dashboard.DeploymentStateView"/>); both after
/// these fields.
/// </summary>
public abstract record DeploymentStatusView
{
    /// <summary>An empty view, for a deserializer to fill in.</summary>
    private protected DeploymentStatusView()
    {
    }

    /// <summary>The view of <paramref name="report"/>.</summary>
    private protected DeploymentStatusView(DeploymentHealthReport report)
    {
        Deployment = report.Deployment;
        Provider = report.Provider;
        ProviderType = report.ProviderType;
        UpstreamModel = report.UpstreamModel;
        Models = report.Models;
        State = ProviderHealthEndpoint.StateName(report.Health.State);
        Breaker = report.Health.BreakerState;
        ConsecutiveFailures = report.Health.ConsecutiveFailures;
        Calls = report.Health.Calls;
        ErrorRate = Math.Round(report.Health.ErrorRate, 4);
        LatencyP50Ms = report.Health.LatencyP50Ms;
        LatencyP95Ms = report.Health.LatencyP95Ms;
        LastSuccess = report.Health.LastSuccess;
        LastFailure = report.Health.LastFailure;
        LastError = report.Health.LastError;
    }

    /// <summary>The deployment's id, <c>provider/upstream-model</c>.</summary>
    public string Deployment { get; init; } = "";

    /// <summary>The configured provider's name.</summary>
    public string Provider { get; init; } = "";

    /// <summary>The provider's type (<c>openai</c>, <c>anthropic</c>, ...).</summary>
    public string ProviderType { get; init; } = "";

    /// <summary>The model id the upstream is asked for.</summary>
    public string UpstreamModel { get; init; } = "";

    /// <summary>The configured models that route to this deployment.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary><c>HEALTHY</c>, <c>DEGRADED</c>, <c>UNAVAILABLE</c> or <c>UNKNOWN</c> (not called yet).</summary>
    public string State { get; init; } = "";

    /// <summary>The circuit breaker's state: <c>closed</c>, <c>open</c>, <c>half-open</c> or <c>isolated</c>.</summary>
    public string Breaker { get; init; } = "";

    /// <summary>Failed calls since the last success.</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>Calls since the process started.</summary>
    public long Calls { get; init; }

    /// <summary>The share of the last 100 calls that failed, 0 to 1.</summary>
    public double ErrorRate { get; init; }

    /// <summary>The median latency of recent successful calls, in milliseconds; null before the first.</summary>
    public double? LatencyP50Ms { get; init; }

    /// <summary>The 95th percentile latency of recent successful calls, in milliseconds; null before the first.</summary>
    public double? LatencyP95Ms { get; init; }

    /// <summary>When a call last succeeded; null if none has.</summary>
    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>When a call last failed; null if none has.</summary>
    public DateTimeOffset? LastFailure { get; init; }

    /// <summary>The last failure's message, secrets removed; null if none has failed.</summary>
    public string? LastError { get; init; }
}

/// <summary>One deployment in <c>GET /health/providers</c>.</summary>
public sealed record DeploymentHealthView : DeploymentStatusView
{
    /// <summary>An empty view, for a deserializer (<c>baton health --url</c> reads the gateway's answer).</summary>
    [JsonConstructor]
    public DeploymentHealthView()
    {
    }

    /// <summary>The view of <paramref name="report"/>, with its probe's result.</summary>
    public DeploymentHealthView(DeploymentHealthReport report)
        : base(report)
    {
        Probe = report.Probe;
    }

    /// <summary>The active check's result with <c>?probe=true</c>; null without one.</summary>
    [JsonPropertyOrder(1)]
    public ProbeResult? Probe { get; init; }
}
