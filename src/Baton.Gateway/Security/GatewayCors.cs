using Baton.Configuration;
using Baton.Gateway.Endpoints;
using Microsoft.AspNetCore.Cors.Infrastructure;

namespace Baton.Gateway.Security;

/// <summary>The CORS policy built from <c>gateway.cors</c> (ASP.NET Core's CORS middleware applies it).</summary>
internal static class GatewayCors
{
    /// <summary>The response headers a page may read: Baton's own and the rate-limit headers.</summary>
    private static readonly string[] ExposedHeaders =
    [
        GatewayHeaders.Model, GatewayHeaders.RequestedModel, GatewayHeaders.FallbackUsed, GatewayHeaders.Tier, GatewayHeaders.Cache,
        GatewayHeaders.Provider, GatewayHeaders.Deployment, GatewayHeaders.Attempts, GatewayHeaders.OverheadMs, GatewayHeaders.Task,
        GatewayHeaders.CostUsd, GatewayHeaders.BudgetWarning,
        RateLimitHeaders.RemainingRequests, RateLimitHeaders.RemainingTokens, RateLimitHeaders.ResetRequests, RateLimitHeaders.ResetTokens,
        "Retry-After",
    ];

    public static void Configure(CorsPolicyBuilder policy, GatewayCorsOptions options)
    {
        if (options.AllowedOrigins.Contains("*"))
        {
            policy.AllowAnyOrigin();
        }
        else
        {
            policy.WithOrigins([.. options.AllowedOrigins]);
        }
        // Callers authenticate with a bearer key in a header, never with cookies: no credentials mode. PATCH is the
        // admin API's update of a key.
        policy.WithMethods("GET", "POST", "PATCH", "DELETE")
            .AllowAnyHeader()
            .WithExposedHeaders(ExposedHeaders)
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
    }
}
