using Baton.Gateway.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Baton.Gateway.Dashboard;

/// <summary>
/// Maps <c>/dashboard</c> (the page: anyone may load it, since it holds no data and asks for the master key itself)
/// and the admin endpoints it reads, which need the master key when keys are on.
/// </summary>
internal static class DashboardEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/dashboard/{file?}", DashboardAssets.Serve)
            .WithMetadata(AnonymousEndpoint.Instance)
            .ExcludeFromDescription();

        var admin = group.MapGroup("/admin").WithMetadata(MasterKeyEndpoint.Instance);
        admin.MapGet("/stats", AdminMonitoringEndpoints.Stats)
            .WithName("GetTrafficStats")
            .WithSummary("Traffic of the last ?minutes=N (1-60, default 60): live rate, error rate, latency and time-to-first-token percentiles, tokens, cost and cache hits, per minute, per model and per key.")
            .Produces<Monitoring.TrafficSnapshot>()
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest);
        admin.MapGet("/requests", AdminMonitoringEndpoints.Requests)
            .WithName("ListRecentRequests")
            .WithSummary("The last ?limit=N requests (default 50), newest first: time, key, model, deployment, status, latency, tokens, cost; never content.")
            .Produces<RecentRequestsView>()
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest);
        admin.MapGet("/deployments", AdminMonitoringEndpoints.DeploymentsAsync)
            .WithName("ListDeploymentStates")
            .WithSummary("Every deployment's health, circuit breaker and rate-limit headroom.")
            .Produces<DeploymentsView>();
        admin.MapGet("/budgets", AdminMonitoringEndpoints.BudgetsAsync)
            .WithName("ListBudgetStates")
            .WithSummary("Every budget counter in its current window: limits, spent, reserved, remaining, share used.")
            .Produces<BudgetsView>();
        admin.MapGet("/cache", AdminMonitoringEndpoints.Cache)
            .WithName("GetCacheState")
            .WithSummary("The response cache: mode, entries, bytes, hits, misses and hit rate.")
            .Produces<CacheStatsResponse>();
        admin.MapGet("/batches", AdminMonitoringEndpoints.Batches)
            .WithName("ListBatchJobs")
            .WithSummary("The newest ?limit=N batch jobs (default 20) of every owner, and how many are running.")
            .Produces<BatchJobsView>()
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest);
    }
}
