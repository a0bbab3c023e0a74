namespace Baton.Configuration;

/// <summary>Traces, metrics and their export (<c>observability</c>). See docs/observability.md.</summary>
public sealed class ObservabilityOptions
{
    /// <summary>
    /// Spans for every request and upstream attempt on the <c>Baton</c> activity source. Default true. The gateway
    /// then records them and continues the caller's <c>traceparent</c> to the upstream; they leave the process only
    /// through OTLP (the <c>OTEL_EXPORTER_OTLP_*</c> variables).
    /// </summary>
    public bool Tracing { get; set; } = true;

    /// <summary>Metrics on the <c>Baton</c> meter, and the gateway's <c>/metrics</c> endpoint. Default true.</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>
    /// Put the prompt and the answer on spans (<c>gen_ai.input.messages</c>, <c>gen_ai.output.messages</c>). Default
    /// false: content often holds personal or secret data, and spans go to places few people guard.
    /// </summary>
    public bool CaptureContent { get; set; }

    /// <summary>
    /// Let anyone who reaches the gateway read <c>/metrics</c> when <c>auth</c> is on (e.g. a Prometheus on a private
    /// network). Default false: the master key is needed, since metrics name models, deployments and key ids.
    /// </summary>
    public bool MetricsAnonymous { get; set; }
}
