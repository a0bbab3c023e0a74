using System.Collections.Concurrent;
using System.Net;
using Baton.Gateway.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Baton.Gateway.Tests.Telemetry;

/// <summary><c>/metrics</c> over real HTTP, who may read it, and OTLP export to a collector over real HTTP.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_show_the_requests_tokens_and_costs_and_need_the_master_key()
    {
        // Every gateway of the test process feeds every meter provider listening to "Baton": the models are this test's own.
        var model = "metered-" + Guid.NewGuid().ToString("N")[..8];
        var broken = "broken-" + model;
        await using var server = await TelemetryGateway.StartAsync(options =>
        {
            options.Models[model] = new Configuration.ModelOptions { Deployments = [new Configuration.DeploymentOptions { Provider = "sim-http", Model = "baton-sim-1" }] };
            options.Models[broken] = new Configuration.ModelOptions { Deployments = [new Configuration.DeploymentOptions { Provider = "sim-http", Model = "baton-sim-1@503" }] };
        });
        var (traceId, span) = GatewayTracingTests.NewCaller();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await GatewayTracingTests.PostAsync(server, model, traceId, span);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var failed = await GatewayTracingTests.PostAsync(server, broken, traceId, span);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        using var streamed = await GatewayTracingTests.PostAsync(server, model, traceId, span, stream: true);
        await streamed.Content.ReadAsStringAsync();

        using var anonymous = server.Client(key: null);
        using var refused = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("invalid_api_key", await refused.Content.ReadAsStringAsync());

        using var client = server.Client();
        // A stream's request ends when the gateway disposes of it, just after the last byte went out.
        var mine = $"=\"{model}\"";
        var text = await ScrapeUntilAsync(client, t => ValueOf(t, "baton_requests_total{", mine, "baton_outcome=\"ok\"") == 4);
        Assert.Equal(4, ValueOf(text, "baton_requests_total{", mine, "baton_outcome=\"ok\""));
        Assert.Equal(1, ValueOf(text, "baton_requests_total{", $"=\"{broken}\""));
        Assert.True(double.IsNaN(ValueOf(text, "baton_requests_total{", $"=\"{broken}\"", "baton_outcome=\"ok\"")));
        Assert.Equal(4, ValueOf(text, "gen_ai_client_token_usage_count{", mine, "gen_ai_token_type=\"input\"", "gen_ai_provider_name=\"openai\""));
        Assert.True(ValueOf(text, "gen_ai_client_token_usage_sum{", mine, "gen_ai_token_type=\"output\"") > 0);
        Assert.Equal(4, ValueOf(text, "gen_ai_client_operation_duration_seconds_count{", mine, "gen_ai_response_model=\"baton-sim-1\""));
        Assert.Equal(1, ValueOf(text, "gen_ai_client_operation_duration_seconds_count{", $"=\"{broken}\"", "error_type="));
        Assert.Equal(1, ValueOf(text, "gen_ai_server_time_to_first_token_seconds_count{", mine));
        Assert.True(ValueOf(text, "baton_cost_usd_total{", mine, "baton_key_id=") > 0);
        Assert.Equal(0, ValueOf(text, "baton_breaker_state{", "baton_deployment=\"sim-http/baton-sim-1\""));
        Assert.Contains("\nbaton_ledger_backlog", text);
        Assert.Contains("\nbaton_requests_active", text);
    }

    [Fact]
    public async Task Metrics_may_be_read_without_a_key_with_metricsAnonymous()
    {
        await using var server = await TelemetryGateway.StartAsync(options => options.Observability.MetricsAnonymous = true);
        var (traceId, span) = GatewayTracingTests.NewCaller();
        using var ok = await GatewayTracingTests.PostAsync(server, "local-sim", traceId, span);
        using var anonymous = server.Client(key: null);
        using var response = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("baton_model=\"local-sim\"", await response.Content.ReadAsStringAsync());
        // The rest of the API still needs a key.
        using var models = await anonymous.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
    }

    [Fact]
    public async Task Without_metrics_there_is_no_metrics_endpoint()
    {
        await using var server = await TelemetryGateway.StartAsync(options => options.Observability.Metrics = false);
        using var client = server.Client();
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(server.Gateway.Services.GetService<MeterProvider>());
    }

    [Fact]
    public async Task Traces_and_metrics_go_to_the_OTLP_collector_the_variables_name()
    {
        var received = new ConcurrentQueue<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", (HttpContext http, string signal) =>
        {
            received.Enqueue(signal + " " + http.Request.ContentType);
            return Results.Ok();
        });
        await collector.StartAsync();
        var endpoint = TestSupport.GatewayServer.AddressOf(collector);

        await using var server = await TelemetryGateway.StartAsync(environment: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "baton-test",
        });
        Assert.Equal(new OtlpExport(Traces: true, Metrics: true), server.Gateway.Services.GetRequiredService<OtlpExport>());
        // The SDK's own options factory for the OTLP exporter replaces the default one only when an exporter is added.
        Assert.IsNotType<OptionsFactory<OtlpExporterOptions>>(server.Gateway.Services.GetRequiredService<IOptionsFactory<OtlpExporterOptions>>());
        var (traceId, span) = GatewayTracingTests.NewCaller();
        using var ok = await GatewayTracingTests.PostAsync(server, "local-sim", traceId, span);
        await GatewayTracingTests.WaitForSpanAsync(server, traceId, "POST /v1/chat/completions");

        Assert.True(server.Gateway.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        // The meter provider's flush also asks the Prometheus reader, which only collects for a scrape and says false;
        // the OTLP reader exports all the same.
        server.Gateway.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000);
        Assert.Contains("traces application/x-protobuf", received);
        Assert.Contains("metrics application/x-protobuf", received);
        await collector.StopAsync();
    }

    [Fact]
    public void Without_the_OTLP_variables_nothing_is_exported()
    {
        Assert.Equal(new OtlpExport(false, false), OtlpExport.From(_ => null));
        Assert.Equal(new OtlpExport(true, false), OtlpExport.From(name => name == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" ? "http://127.0.0.1:4318/v1/traces" : null));
        Assert.Equal(new OtlpExport(true, true), OtlpExport.From(name => name == "OTEL_EXPORTER_OTLP_ENDPOINT" ? "http://127.0.0.1:4317" : null));
    }

    [Fact]
    public async Task A_gateway_without_the_OTLP_variables_registers_no_OTLP_exporter()
    {
        await using var server = await TelemetryGateway.StartAsync();
        Assert.Equal(new OtlpExport(false, false), server.Gateway.Services.GetRequiredService<OtlpExport>());
        // No OTLP exporter was added: the OTLP options come from the default factory, not the SDK's.
        Assert.IsType<OptionsFactory<OtlpExporterOptions>>(server.Gateway.Services.GetRequiredService<IOptionsFactory<OtlpExporterOptions>>());
    }

    private static async Task<string> ScrapeUntilAsync(HttpClient client, Func<string, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            using var response = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            if (done(text) || timeout.IsCancellationRequested)
            {
                return text;
            }
            // The exporter caches a scrape for 300 ms.
            await Task.Delay(100);
        }
    }

    /// <summary>The value of the first sample of the scrape whose line holds all <paramref name="parts"/>; NaN when there is none.</summary>
    private static double ValueOf(string text, params string[] parts)
    {
        var line = text.Split('\n').FirstOrDefault(line => !line.StartsWith('#') && parts.All(p => line.Contains(p, StringComparison.Ordinal)));
        if (line is null)
        {
            return double.NaN;
        }
        var value = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
        return double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
