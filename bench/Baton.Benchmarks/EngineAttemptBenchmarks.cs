using System.Net;
using BenchmarkDotNet.Attributes;
using Baton.Configuration;
using Baton.Engine;
using Baton.Providers;
using Baton.Requests;
using Baton.Routing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Benchmarks;

/// <summary>
/// The engine's own work for one request, with nothing around it (no cache, keys, accounting or telemetry): the
/// candidate plan, the rate-limit lease, the retry and breaker pipeline, the timeouts, and the provider's HTTP
/// exchange with an in-process upstream that answers the overhead benchmark's completion and 17-event stream.
/// One candidate; the first attempt succeeds, or a 503 comes first and the retry succeeds (no backoff).
/// </summary>
[MemoryDiagnoser]
public class EngineAttemptBenchmarks
{
    private BatonEngine _engine = null!;
    private BenchUpstream _upstream = null!;
    private byte[] _request = null!;
    private byte[] _streamRequest = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new BatonOptions();
        options.Providers["upstream"] = new ProviderOptions { Type = ProviderTypes.OpenAi, BaseUrl = "http://127.0.0.1:9/v1" };
        options.Models["bench"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "upstream", Model = "bench-upstream" }] };
        options.Models["bench-stream"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "upstream", Model = "bench-upstream" }] };
        // The retry after a 503 goes at once, and one 503 in two must not open the breaker.
        options.Resilience.BaseDelaySeconds = 0;
        options.Resilience.CircuitBreaker.FailureRatio = 1;
        _upstream = new BenchUpstream();
        var time = TimeProvider.System;
        var factory = new ProviderFactory(new HttpMessageInvoker(_upstream), time, new SecretRedactor(), _ => null);
        _engine = new BatonEngine(new ModelCatalog(options, factory, time), new TaskRouter(options), time, NullLogger<BatonEngine>.Instance);
        _request = Payloads.Request;
        _streamRequest = Payloads.StreamRequest;
    }

    [Benchmark(Baseline = true)]
    public Task<int> Complete() => CompleteAsync(failFirst: false);

    [Benchmark]
    public Task<int> CompleteAfter503() => CompleteAsync(failFirst: true);

    [Benchmark]
    public Task<int> Stream() => StreamAsync(failFirst: false);

    [Benchmark]
    public Task<int> StreamAfter503() => StreamAsync(failFirst: true);

    private async Task<int> CompleteAsync(bool failFirst)
    {
        _upstream.FailNext = failFirst;
        using var result = await _engine.CompleteAsync(ChatRequestParser.Parse(_request), CancellationToken.None).ConfigureAwait(false);
        return result.Body.Length + result.Route.Attempts;
    }

    private async Task<int> StreamAsync(bool failFirst)
    {
        _upstream.FailNext = failFirst;
        await using var result = await _engine.StreamAsync(ChatRequestParser.Parse(_streamRequest), CancellationToken.None).ConfigureAwait(false);
        var length = 0;
        await foreach (var chunk in result.ReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            length += chunk.Json.Length;
        }
        return length + result.Route.Attempts;
    }

    /// <summary>An OpenAI-compatible upstream in process: the recorded completion or stream, or once a 503.</summary>
    private sealed class BenchUpstream : HttpMessageHandler
    {
        public bool FailNext { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // The request is sent as a real client would send it, and read as a real upstream would read it.
            await request.Content!.CopyToAsync(System.IO.Stream.Null, cancellationToken).ConfigureAwait(false);
            if (FailNext)
            {
                FailNext = false;
                return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    Content = new ByteArrayContent("""{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}"""u8.ToArray()),
                };
            }
            var stream = request.Headers.Accept.Any(a => a.MediaType == "text/event-stream");
            var content = new ByteArrayContent(stream ? Payloads.Stream : Payloads.Completion);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(stream ? "text/event-stream" : "application/json");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        }
    }
}
