using System.Diagnostics;
using System.Net;
using System.Text;
using Baton.Telemetry;

namespace Baton.Gateway.Tests.Telemetry;

/// <summary>Spans of gateway requests over real HTTP: the caller's trace continues through Baton to the upstream.</summary>
public sealed class GatewayTracingTests
{
    private static readonly TimeSpan SpanWait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_request_continues_the_callers_trace_to_the_upstream_with_genai_attributes()
    {
        await using var server = await TelemetryGateway.StartAsync();
        var (traceId, callerSpan) = NewCaller();
        using var response = await PostAsync(server, "gpt-sim", traceId, callerSpan);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var request = await WaitForSpanAsync(server, traceId, "chat gpt-sim");
        var attempt = await WaitForSpanAsync(server, traceId, "chat baton-sim-1");
        var serverSpan = await WaitForSpanAsync(server, traceId, "POST /v1/chat/completions");

        // The gateway's span is the caller's child; the request span its child; the attempt the request's.
        Assert.Equal(callerSpan, serverSpan.ParentSpanId);
        Assert.Equal(ActivityKind.Server, serverSpan.Kind);
        Assert.Equal(serverSpan.SpanId, request.ParentSpanId);
        Assert.Equal(request.SpanId, attempt.ParentSpanId);
        Assert.Equal(ActivityKind.Client, attempt.Kind);

        Assert.Equal("chat", request.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("gpt-sim", request.GetTagItem("gen_ai.request.model"));
        Assert.Equal("openai", request.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("baton-sim-1", request.GetTagItem("gen_ai.response.model"));
        Assert.True((int)request.GetTagItem("gen_ai.usage.input_tokens")! > 0);
        Assert.True((int)request.GetTagItem("gen_ai.usage.output_tokens")! > 0);
        Assert.Equal(["stop"], (string[])request.GetTagItem("gen_ai.response.finish_reasons")!);
        Assert.NotNull(request.GetTagItem("gen_ai.response.id"));
        Assert.Equal("sim-http/baton-sim-1", request.GetTagItem("baton.deployment"));
        Assert.Equal(1, request.GetTagItem("baton.attempts"));
        Assert.Equal(false, request.GetTagItem("baton.fallback"));
        Assert.Equal("bypass", request.GetTagItem("baton.cache"));
        Assert.True((double)request.GetTagItem("baton.cost_usd")! > 0);
        Assert.Equal("ok", request.GetTagItem("baton.outcome"));
        // Content stays off spans unless observability.captureContent is on.
        Assert.Null(request.GetTagItem("gen_ai.input.messages"));
        Assert.Null(request.GetTagItem("gen_ai.output.messages"));
        Assert.Equal(1, attempt.GetTagItem("baton.attempt"));
        Assert.Equal(ActivityStatusCode.Unset, attempt.Status);

        // The upstream received the attempt span as its parent, in the caller's trace.
        var upstream = Assert.Single(server.UpstreamRequests, r => r.TraceParent?.Contains(traceId.ToHexString(), StringComparison.Ordinal) == true);
        Assert.Equal($"00-{traceId.ToHexString()}-{attempt.SpanId.ToHexString()}-01", upstream.TraceParent);
    }

    [Fact]
    public async Task A_failover_shows_one_attempt_span_per_deployment_with_the_failures_error_type()
    {
        await using var server = await TelemetryGateway.StartAsync();
        var (traceId, callerSpan) = NewCaller();
        using var response = await PostAsync(server, "failover-sim", traceId, callerSpan);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var request = await WaitForSpanAsync(server, traceId, "chat failover-sim");
        var attempts = server.Trace(traceId).Where(s => s.ParentSpanId == request.SpanId).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal("sim-http/baton-sim-1@503", attempts[0].GetTagItem("baton.deployment"));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(503, attempts[0].GetTagItem("http.response.status_code"));
        Assert.NotNull(attempts[0].GetTagItem("error.type"));
        Assert.Equal("sim-local/baton-sim-1", attempts[1].GetTagItem("baton.deployment"));
        Assert.Equal(ActivityStatusCode.Unset, attempts[1].Status);
        Assert.Equal(2, attempts[1].GetTagItem("baton.attempt"));
        Assert.Equal(2, request.GetTagItem("baton.attempts"));
        Assert.Equal(true, request.GetTagItem("baton.fallback"));
        Assert.Equal("sim-local/baton-sim-1", request.GetTagItem("baton.deployment"));
    }

    [Fact]
    public async Task Retries_and_a_fallback_model_each_get_an_attempt_span()
    {
        await using var server = await TelemetryGateway.StartAsync(options =>
        {
            options.Resilience.MaxRetries = 1;
            options.Resilience.BaseDelaySeconds = 0.001;
            options.Resilience.MaxDelaySeconds = 0.001;
        });
        var (traceId, callerSpan) = NewCaller();
        using var response = await PostAsync(server, "fallback-sim", traceId, callerSpan);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var request = await WaitForSpanAsync(server, traceId, "chat fallback-sim");
        var attempts = server.Trace(traceId).Where(s => s.ParentSpanId == request.SpanId).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(["sim-http/baton-sim-2@503", "sim-http/baton-sim-2@503", "sim-local/baton-sim-1"],
            attempts.Select(a => (string)a.GetTagItem("baton.deployment")!).ToArray());
        Assert.Equal([1, 2, 3], attempts.Select(a => (int)a.GetTagItem("baton.attempt")!).ToArray());
        Assert.All(attempts.Take(2), a => Assert.Equal(ActivityStatusCode.Error, a.Status));
        Assert.Equal("local-sim", request.GetTagItem("baton.model"));
        Assert.Equal(true, request.GetTagItem("baton.fallback"));
        Assert.Equal(3, request.GetTagItem("baton.attempts"));
        // Both calls to the failing upstream carried the trace, each with its own attempt span as parent.
        var upstream = server.UpstreamRequests.Where(r => r.TraceParent?.Contains(traceId.ToHexString(), StringComparison.Ordinal) == true)
            .Select(r => r.TraceParent).ToList();
        Assert.Equal(attempts.Take(2).Select(a => $"00-{traceId.ToHexString()}-{a.SpanId.ToHexString()}-01"), upstream);
    }

    [Fact]
    public async Task A_resumed_stream_has_a_resume_event_and_its_time_to_first_chunk()
    {
        await using var server = await TelemetryGateway.StartAsync();
        var (traceId, callerSpan) = NewCaller();
        using var response = await PostAsync(server, "resume-sim", traceId, callerSpan, stream: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("[DONE]", body);

        var request = await WaitForSpanAsync(server, traceId, "chat resume-sim");
        Assert.Equal(true, request.GetTagItem("baton.stream"));
        Assert.Equal(true, request.GetTagItem("baton.stream_resumed"));
        Assert.True((double)request.GetTagItem("gen_ai.response.time_to_first_chunk")! > 0);
        var resume = Assert.Single(request.Events, e => e.Name == "baton.stream.resume");
        Assert.Equal("sim-http/baton-sim-1@cut:3", resume.Tags.Single(t => t.Key == "baton.deployment").Value);
        Assert.Equal("sim-local/baton-sim-1", request.GetTagItem("baton.deployment"));
        Assert.Equal("ok", request.GetTagItem("baton.outcome"));
        Assert.True((int)request.GetTagItem("gen_ai.usage.output_tokens")! > 0);
    }

    [Fact]
    public async Task Prompt_and_answer_go_on_the_span_with_captureContent()
    {
        await using var server = await TelemetryGateway.StartAsync(options => options.Observability.CaptureContent = true);
        var (traceId, callerSpan) = NewCaller();
        using var response = await PostAsync(server, "gpt-sim", traceId, callerSpan, prompt: "the secret word is marmalade");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync())
            .RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

        var request = await WaitForSpanAsync(server, traceId, "chat gpt-sim");
        var input = (string)request.GetTagItem("gen_ai.input.messages")!;
        using var messages = System.Text.Json.JsonDocument.Parse(input);
        var part = messages.RootElement[0].GetProperty("parts")[0];
        Assert.Equal("user", messages.RootElement[0].GetProperty("role").GetString());
        Assert.Equal("the secret word is marmalade", part.GetProperty("content").GetString());
        using var output = System.Text.Json.JsonDocument.Parse((string)request.GetTagItem("gen_ai.output.messages")!);
        Assert.Equal(answer, output.RootElement[0].GetProperty("parts")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Nothing_is_traced_with_tracing_off()
    {
        await using var server = await TelemetryGateway.StartAsync(options => options.Observability.Tracing = false);
        var (traceId, callerSpan) = NewCaller();
        using var response = await PostAsync(server, "gpt-sim", traceId, callerSpan);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The request and attempt spans would have ended before the answer was sent.
        Assert.DoesNotContain(server.Trace(traceId), s => s.OperationName.StartsWith("chat ", StringComparison.Ordinal));
        Assert.Contains(server.UpstreamRequests, r => r.Path.Contains("chat/completions", StringComparison.Ordinal) && r.TraceParent is null);
        Assert.DoesNotContain(server.UpstreamRequests, r => r.TraceParent?.Contains(traceId.ToHexString(), StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Batch_items_and_pipeline_steps_join_the_callers_trace()
    {
        var pipeline = Path.Combine(Path.GetTempPath(), $"baton-telemetry-echo-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(pipeline, """
            name: echo
            steps:
              answer:
                model: local-sim
                promptText: "Say {{text}}"
            """);
        try
        {
            await using var server = await TelemetryGateway.StartAsync(options => options.Pipelines["echo"] = pipeline);
            using var client = server.Client();

            var (batchTrace, batchCaller) = NewCaller();
            using var batch = new HttpRequestMessage(HttpMethod.Post, "/batch")
            {
                Content = new StringContent("""
                    {"requests":[{"provider":"sim-http","model":"baton-sim-1","messages":[{"role":"user","content":"one"}]},
                                 {"provider":"sim-local","model":"baton-sim-1","messages":[{"role":"user","content":"two"}]}]}
                    """, Encoding.UTF8, "application/json"),
            };
            batch.Headers.Add("traceparent", $"00-{batchTrace.ToHexString()}-{batchCaller.ToHexString()}-01");
            using (var answered = await client.SendAsync(batch))
            {
                Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            }
            var batchSpan = await WaitForSpanAsync(server, batchTrace, "POST /batch");
            // Each item is a request of the model serving that provider's upstream model, under the batch's span.
            var items = server.Trace(batchTrace).Where(s => s.Kind == ActivityKind.Internal && s.ParentSpanId == batchSpan.SpanId).ToList();
            Assert.Equal(2, items.Count);
            Assert.All(items, item => Assert.StartsWith("chat ", item.DisplayName, StringComparison.Ordinal));
            Assert.Equal(["sim-http/baton-sim-1", "sim-local/baton-sim-1"], items.Select(i => (string)i.GetTagItem("baton.deployment")!).Order().ToArray());
            Assert.Contains(server.UpstreamRequests, r => r.TraceParent?.Contains(batchTrace.ToHexString(), StringComparison.Ordinal) == true);

            var (runTrace, runCaller) = NewCaller();
            using var run = new HttpRequestMessage(HttpMethod.Post, "/v1/pipelines/echo/runs")
            {
                Content = new StringContent("""{"input":{"text":"hi"}}""", Encoding.UTF8, "application/json"),
            };
            run.Headers.Add("traceparent", $"00-{runTrace.ToHexString()}-{runCaller.ToHexString()}-01");
            using (var answered = await client.SendAsync(run))
            {
                Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            }
            var step = await WaitForSpanAsync(server, runTrace, "chat local-sim");
            var runSpan = await WaitForSpanAsync(server, runTrace, "POST /v1/pipelines/{name}/runs");
            Assert.Equal(runCaller, runSpan.ParentSpanId);
            Assert.Contains(server.Trace(runTrace), s => s.SpanId == step.ParentSpanId);
        }
        finally
        {
            File.Delete(pipeline);
        }
    }

    internal static (ActivityTraceId TraceId, ActivitySpanId Span) NewCaller() => (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());

    internal static async Task<HttpResponseMessage> PostAsync(TelemetryGateway server, string model, ActivityTraceId traceId, ActivitySpanId parent,
        bool stream = false, string prompt = "hello")
    {
        using var client = server.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{prompt}}"}]}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{parent.ToHexString()}-01");
        return await client.SendAsync(request);
    }

    /// <summary>Waits for a span to end: a stream's request span ends once the gateway has disposed of the stream.</summary>
    internal static async Task<Activity> WaitForSpanAsync(TelemetryGateway server, ActivityTraceId traceId, string name)
    {
        using var timeout = new CancellationTokenSource(SpanWait);
        while (true)
        {
            if (server.Trace(traceId).FirstOrDefault(s => s.OperationName == name || s.DisplayName == name) is { } span)
            {
                return span;
            }
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"No span '{name}' ended in trace {traceId}; spans: {string.Join(", ", server.Trace(traceId).Select(s => s.DisplayName))}");
            }
            await Task.Delay(20);
        }
    }
}
