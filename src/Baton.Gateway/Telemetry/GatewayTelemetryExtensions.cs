using Baton.Configuration;
using Baton.Gateway.Endpoints;
using Baton.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Baton.Gateway.Telemetry;

/// <summary>Wires Baton's <c>Baton</c> activity source and meter to the OpenTelemetry SDK: Prometheus, and OTLP when configured.</summary>
public static class GatewayTelemetryExtensions
{
    /// <summary>
    /// Adds the OpenTelemetry SDK for what <c>observability</c> turns on: a tracer provider recording the <c>Baton</c>
    /// source, and a meter provider for the <c>Baton</c> meter with the Prometheus exporter behind <see cref="MapBatonMetrics"/>.
    /// Both also export over OTLP when the <c>OTEL_EXPORTER_OTLP_*</c> variables name a collector (read from the host's
    /// configuration, which holds the environment); <c>OTEL_SERVICE_NAME</c> names the service (default <c>baton</c>).
    /// </summary>
    /// <param name="services">The gateway's services.</param>
    /// <param name="options">The <c>observability</c> settings.</param>
    /// <param name="environment">Where the <c>OTEL_*</c> variables are read; the process environment by default.</param>
    public static IServiceCollection AddBatonOpenTelemetry(this IServiceCollection services, ObservabilityOptions options, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var otlp = OtlpExport.From(environment);
        services.AddSingleton(otlp);
        if (!options.Tracing && !options.Metrics)
        {
            return services;
        }
        var version = typeof(BatonTelemetry).Assembly.GetName().Version?.ToString();
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(environment("OTEL_SERVICE_NAME") is { Length: > 0 } name ? name : "baton", serviceVersion: version));
        // Spans are recorded only when they go somewhere: without an exporter a tracer provider would build every
        // span of every request and drop it. Without one, the caller's trace context still reaches the upstream
        // (RequestActivity), and an application's own listener on the "Baton" source still gets the spans.
        if (options.Tracing && otlp.Traces)
        {
            builder.WithTracing(tracing => tracing.AddSource(BatonTelemetry.Name).AddOtlpExporter());
        }
        if (options.Metrics)
        {
            builder.WithMetrics(metrics =>
            {
                metrics.AddMeter(BatonTelemetry.Name);
                metrics.AddPrometheusExporter();
                if (otlp.Metrics)
                {
                    metrics.AddOtlpExporter();
                }
            });
        }
        return services;
    }

    /// <summary>
    /// Maps <c>/metrics</c>, the <c>Baton</c> meter in Prometheus text format (needs <see cref="AddBatonOpenTelemetry"/>, or
    /// <c>AddPrometheusExporter()</c> in the application's own meter provider). With <c>auth</c> on it needs the master key,
    /// unless <c>observability.metricsAnonymous</c> is true; without <c>auth</c>, loopback callers only, like the rest of the API.
    /// </summary>
    public static IEndpointConventionBuilder MapBatonMetrics(this IEndpointRouteBuilder endpoints, string path = "/metrics")
    {
        var options = endpoints.ServiceProvider.GetRequiredService<BatonOptions>();
        return endpoints.MapPrometheusScrapingEndpoint(path, meterProvider: null, configureBranchedPipeline: branch => branch.Use(GatewayAuth.MiddlewareAsync), optionsName: null)
            .WithMetadata(options.Observability.MetricsAnonymous ? AnonymousEndpoint.Instance : MasterKeyEndpoint.Instance);
    }
}
