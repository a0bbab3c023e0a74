using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary><c>GET /health/providers</c> over real HTTP.</summary>
public sealed class ProviderHealthTests(GatewayServer gateway) : IClassFixture<GatewayServer>
{
    private async Task<JsonElement> HealthAsync(string query = "")
    {
        using var response = await gateway.Http.GetAsync("/health/providers" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    /// <summary>The fields of a deployment in both <c>/health/providers</c> and <c>/admin/deployments</c>, in order.</summary>
    internal static readonly string[] SharedFields =
    [
        "deployment", "provider", "provider_type", "upstream_model", "models", "state", "breaker", "consecutive_failures", "calls",
        "error_rate", "latency_p50_ms", "latency_p95_ms", "last_success", "last_failure", "last_error",
    ];

    private static JsonElement Deployment(JsonElement health, string id) =>
        health.GetProperty("deployments").EnumerateArray().Single(d => d.GetProperty("deployment").GetString() == id);

    [Fact]
    public async Task Traffic_shapes_each_deployments_state_and_failures_keep_their_cause_without_the_key()
    {
        await gateway.Http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"failover-sim","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        var health = await HealthAsync();

        var failed = Deployment(health, "sim-http/baton-sim-1@503");
        Assert.Contains(failed.GetProperty("state").GetString(), new[] { "DEGRADED", "UNAVAILABLE" });
        Assert.True(failed.GetProperty("consecutive_failures").GetInt32() >= 1);
        Assert.Equal("closed", failed.GetProperty("breaker").GetString());
        Assert.Contains("503", failed.GetProperty("last_error").GetString());
        Assert.DoesNotContain(GatewayServer.Key, health.GetRawText());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("probe").ValueKind);
        // Every field, in order; /admin/deployments shares them all but the probe.
        Assert.Equal([.. SharedFields, "probe"], failed.EnumerateObject().Select(p => p.Name));

        var answered = Deployment(health, "sim-local/baton-sim-1");
        Assert.Equal("HEALTHY", answered.GetProperty("state").GetString());
        Assert.True(answered.GetProperty("latency_p50_ms").GetDouble() >= 0);
        Assert.Contains("failover-sim", answered.GetProperty("models").EnumerateArray().Select(m => m.GetString()));

        Assert.Equal("degraded", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_deployment_never_called_is_unknown()
    {
        var fresh = new GatewayServer();
        await fresh.InitializeAsync();
        using var response = await fresh.Http.GetAsync("/health/providers");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.All(json.RootElement.GetProperty("deployments").EnumerateArray(), d => Assert.Equal("UNKNOWN", d.GetProperty("state").GetString()));
        Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
        await fresh.DisposeAsync();
    }

    [Fact]
    public async Task Probing_checks_every_deployment_with_a_real_request()
    {
        var health = await HealthAsync("?probe=true");

        var healthy = Deployment(health, "sim-http/baton-sim-1");
        Assert.True(healthy.GetProperty("probe").GetProperty("ok").GetBoolean());
        Assert.Equal("HEALTHY", healthy.GetProperty("state").GetString());

        var broken = Deployment(health, "sim-http/baton-sim-1@503");
        Assert.False(broken.GetProperty("probe").GetProperty("ok").GetBoolean());
        Assert.Contains("503", broken.GetProperty("probe").GetProperty("error").GetString());
        Assert.NotEqual("HEALTHY", broken.GetProperty("state").GetString());
    }
}
