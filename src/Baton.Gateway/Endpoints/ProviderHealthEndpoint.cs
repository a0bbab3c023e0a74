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

    public static DeploymentHealthView ToView(DeploymentHealthReport report) => new(
        report.Deployment,
        report.Provider,
        report.ProviderType,
        report.UpstreamModel,
        report.Models,
        StateName(report.Health.State),
        report.Health.BreakerState,
        report.Health.ConsecutiveFailures,
        report.Health.Calls,
        Math.Round(report.Health.ErrorRate, 4),
        report.Health.LatencyP50Ms,
        report.Health.LatencyP95Ms,
        report.Health.LastSuccess,
        report.Health.LastFailure,
        report.Health.LastError,
        report.Probe);

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

/// <summary>One deployment in <c>GET /health/providers</c>.</summary>
public sealed record DeploymentHealthView(
    string Deployment,
    string Provider,
    string ProviderType,
    string UpstreamModel,
    IReadOnlyList<string> Models,
    string State,
    string Breaker,
    int ConsecutiveFailures,
    long Calls,
    double ErrorRate,
    double? LatencyP50Ms,
    double? LatencyP95Ms,
    DateTimeOffset? LastSuccess,
    DateTimeOffset? LastFailure,
    string? LastError,
    ProbeResult? Probe);
