using System.Diagnostics;
using Baton.Telemetry;

namespace Baton.Core.Tests.Telemetry;

/// <summary>When Baton records no span of its own, the caller's trace context still reaches the upstream, unchanged.</summary>
public sealed class TraceContextTests
{
    private const string CallerParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public async Task Without_a_span_the_callers_trace_context_goes_upstream_as_it_came_and_only_in_its_own_flow()
    {
        await Task.Run(() =>
        {
            Assert.Null(Activity.Current);
            TraceContext.ContinueCallers(CallerParent, "vendor=1");
            using var message = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/v1/chat/completions");
            TraceContext.Inject(message);
            Assert.Equal(CallerParent, Assert.Single(message.Headers.GetValues("traceparent")));
            Assert.Equal("vendor=1", Assert.Single(message.Headers.GetValues("tracestate")));
        });

        // Another request's flow carries nothing of it.
        using var other = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/v1/chat/completions");
        TraceContext.Inject(other);
        Assert.False(other.Headers.Contains("traceparent"));
    }

    [Fact]
    public async Task A_recorded_span_is_the_upstreams_parent_rather_than_the_caller()
    {
        await Task.Run(() =>
        {
            TraceContext.ContinueCallers(CallerParent, null);
            using var span = new Activity("attempt").SetParentId(CallerParent).Start();
            using var message = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/v1/chat/completions");
            TraceContext.Inject(message);
            var sent = Assert.Single(message.Headers.GetValues("traceparent"));
            Assert.Contains(span.TraceId.ToHexString(), sent, StringComparison.Ordinal);
            Assert.Contains(span.SpanId.ToHexString(), sent, StringComparison.Ordinal);
            Assert.NotEqual(CallerParent, sent);
        });
    }
}
