using System.Net;
using System.Text;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Baton.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.RateLimiting;

/// <summary>A real gateway whose in-process simulator deployment has rate limits, for the lifetime of a test class.</summary>
public sealed class RateLimitedGateway : IAsyncLifetime
{
    private WebApplication? _gateway;

    public HttpClient Http { get; } = new();

    public async Task InitializeAsync()
    {
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Providers["sim-limited"] = new ProviderOptions
        {
            Type = ProviderTypes.Simulator,
            RateLimits = new RateLimitOptions { RequestsPerMinute = 5, TokensPerMinute = 100_000 },
        };
        options.Models["limited"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim-limited", Model = "baton-sim-1" }] };
        options.Models["open"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim", Model = "baton-sim-1" }] };
        _gateway = BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning, _ => null);
        await _gateway.StartAsync();
        Http.BaseAddress = new Uri(GatewayServer.AddressOf(_gateway));
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }
    }
}

/// <summary>The remaining budget of the deployment that answered, in OpenAI's <c>x-ratelimit-*</c> headers.</summary>
public sealed class RateLimitHeaderTests(RateLimitedGateway gateway) : IClassFixture<RateLimitedGateway>
{
    private static StringContent Body(string model, bool stream = false) => new(
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"max_tokens":50,"messages":[{"role":"user","content":"hello there"}]}""",
        Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_limited_deployment_reports_its_remaining_budget_and_reset()
    {
        using var first = await gateway.Http.PostAsync("/v1/chat/completions", Body("limited"));
        using var second = await gateway.Http.PostAsync("/v1/chat/completions", Body("limited", stream: true));
        await second.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var remainingFirst = int.Parse(Header(first, "x-ratelimit-remaining-requests"));
        var remainingSecond = int.Parse(Header(second, "x-ratelimit-remaining-requests"));
        Assert.InRange(remainingFirst, 3, 4);
        Assert.InRange(remainingSecond, 2, remainingFirst);
        var reset = UpstreamRateLimit.ParseDuration(Header(first, "x-ratelimit-reset-requests"));
        Assert.NotNull(reset);
        Assert.InRange(reset.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(12));
        Assert.InRange(int.Parse(Header(first, "x-ratelimit-remaining-tokens")), 90_000, 100_000);
        Assert.NotNull(UpstreamRateLimit.ParseDuration(Header(first, "x-ratelimit-reset-tokens")));
    }

    [Fact]
    public async Task A_deployment_without_limits_sends_no_rate_limit_headers()
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", Body("open"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-ratelimit-remaining-requests"));
        Assert.False(response.Headers.Contains("x-ratelimit-reset-requests"));
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();
}
