namespace Baton.Gateway.Telemetry;

/// <summary>
/// Whether traces and metrics go to an OTLP collector: only when the standard variables name one
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, or the per-signal <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> and
/// <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c>). Unset, no exporter is registered and nothing leaves the process.
/// </summary>
internal sealed record OtlpExport(bool Traces, bool Metrics)
{
    /// <summary>The variables the OpenTelemetry SDK reads for OTLP and the resource; copied into the host's configuration.</summary>
    public static readonly string[] Variables =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
        "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
    ];

    public static OtlpExport From(Func<string, string?> environment)
    {
        var all = IsSet(environment("OTEL_EXPORTER_OTLP_ENDPOINT"));
        return new OtlpExport(all || IsSet(environment("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")), all || IsSet(environment("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")));
    }

    private static bool IsSet(string? value) => !string.IsNullOrWhiteSpace(value);
}
