using System.Text.Json;
using Baton.Accounting.Ledger;
using Baton.Resilience;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// The JSON views the gateway answers with, for clients that show the same data without going through HTTP
/// (the <c>baton</c> command's <c>--format json</c> output is byte for byte what the endpoint returns).
/// </summary>
public static class GatewayViews
{
    /// <summary>The serializer settings of the admin API (snake_case names), for reading its answers.</summary>
    public static JsonSerializerOptions AdminJson => AdminKeysEndpoints.Json;

    /// <summary>The body of <c>GET /v1/costs</c> for <paramref name="report"/>.</summary>
    public static CostReportView Costs(CostReport report) => CostsEndpoint.ToView(report);

    /// <summary>One deployment's entry in <c>GET /health/providers</c>.</summary>
    public static DeploymentHealthView ProviderHealth(DeploymentHealthReport report) => ProviderHealthEndpoint.ToView(report);
}
