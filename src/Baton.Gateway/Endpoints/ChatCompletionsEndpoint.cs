using System.Buffers;
using Baton.Configuration;
using Baton.Engine;
using Baton.Errors;
using Baton.Providers;
using Baton.Requests;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>POST /v1/chat/completions</c>: OpenAI's Chat Completions API in front of the Baton engine. The body is
/// read once into a pooled buffer, validated without building an object model, and answered either with the
/// upstream's <c>chat.completion</c> or with its chunks relayed as server-sent events as they arrive.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>The most a stream writes before sending, when the upstream's chunks arrive faster than they are sent.</summary>
    private const int MaxUnflushedBytes = 16 * 1024;

    public static async Task HandleAsync(HttpContext http, BatonEngine engine, BatonOptions options, TimeProvider time)
    {
        var started = time.GetTimestamp();
        try
        {
            using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
            var request = ChatRequestParser.Parse(body.Memory);
            request.Options = GatewayRequestOptions.Merge(http, request.Options, fingerprintKey: engine.Accounting?.TracksCallers == true);
            if (request.Stream)
            {
                await StreamAsync(http, engine, request, time, started);
            }
            else
            {
                await CompleteAsync(http, engine, request, time, started);
            }
        }
        catch (BatonException ex)
        {
            await ErrorResponses.WriteAsync(http, ex);
        }
    }

    private static async Task CompleteAsync(HttpContext http, BatonEngine engine, ChatRequest request, TimeProvider time, long started)
    {
        using var result = await engine.CompleteAsync(request, http.RequestAborted);
        var response = http.Response;
        WriteRouteHeaders(response, result.Route, time.GetElapsedTime(started), time);
        WriteBudgetWarnings(response, result.BudgetWarnings);
        if (result.CostUsd is { } cost)
        {
            response.Headers[GatewayHeaders.CostUsd] = FormatCost(cost);
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = result.Body.Length;
        await response.Body.WriteAsync(result.Body, http.RequestAborted);
    }

    private static async Task StreamAsync(HttpContext http, BatonEngine engine, ChatRequest request, TimeProvider time, long started)
    {
        var aborted = http.RequestAborted;
        await using var result = await engine.StreamAsync(request, aborted);
        var chunks = result.ReadAsync(aborted).GetAsyncEnumerator(aborted);
        await using (chunks)
        {
            // Wait for the first chunk before committing to 200, so that a failure before any content is
            // still answered as a plain error response rather than a broken stream.
            var ownTime = time.GetElapsedTime(started);
            var hasChunk = await chunks.MoveNextAsync();

            var response = http.Response;
            WriteRouteHeaders(response, result.Route, ownTime, time);
            WriteBudgetWarnings(response, result.BudgetWarnings);
            var costTrailer = result.CostUsd is not null && response.SupportsTrailers();
            if (costTrailer)
            {
                response.DeclareTrailer(GatewayHeaders.CostUsd);
            }
            var costComment = result.CostUsd is not null && http.Request.Headers[GatewayHeaders.StreamCost] == "true";
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

            var writer = response.BodyWriter;
            try
            {
                var resumeAnnounced = false;
                var unflushed = 0;
                while (hasChunk)
                {
                    if (!resumeAnnounced && result.Route.StreamResumed)
                    {
                        // Headers are long gone; an SSE comment tells whoever reads the raw stream, and SDKs skip it.
                        writer.Write(System.Text.Encoding.UTF8.GetBytes($": baton resumed the stream on {result.Route.Deployment} after an interruption\n\n"));
                        resumeAnnounced = true;
                    }
                    var chunk = chunks.Current;
                    if (!chunk.IsUsageOnly || request.IncludeUsage)
                    {
                        writer.Write(DataPrefix);
                        writer.Write(chunk.Json.Span);
                        writer.Write(EventEnd);
                        unflushed += DataPrefix.Length + chunk.Json.Length + EventEnd.Length;
                    }
                    // Chunks the upstream already sent go out together; before waiting for the upstream, everything
                    // written is sent, so no chunk is ever held back while the upstream is silent.
                    var next = chunks.MoveNextAsync();
                    if (unflushed > 0 && (!next.IsCompleted || unflushed >= MaxUnflushedBytes))
                    {
                        await writer.FlushAsync(aborted);
                        unflushed = 0;
                    }
                    hasChunk = await next;
                }
                // Headers went out before the usage was known: the cost goes in a trailer where the protocol has
                // them (HTTP/2), and in an SSE comment for clients that ask (SDKs skip comments, strict parsers may not).
                // Only then does the answer wait for tokens Baton counts itself (an upstream that reported no usage).
                if ((costComment || costTrailer) && await result.GetCostAsync(aborted) is { } cost)
                {
                    if (costComment)
                    {
                        writer.Write(System.Text.Encoding.UTF8.GetBytes($": {GatewayHeaders.CostUsd} {FormatCost(cost)}\n\n"));
                    }
                    if (costTrailer)
                    {
                        response.AppendTrailer(GatewayHeaders.CostUsd, FormatCost(cost));
                    }
                }
                writer.Write(Done);
                await writer.FlushAsync(aborted);
            }
            catch (BatonException ex)
            {
                // The answer was cut after content was sent: say so in the stream, and never send [DONE],
                // so no client mistakes the partial answer for a complete one.
                writer.Write(DataPrefix);
                writer.Write(OpenAiErrorWriter.ToUtf8(ex));
                writer.Write(EventEnd);
                await writer.FlushAsync(aborted);
            }
        }
    }

    internal static void WriteBudgetWarnings(HttpResponse response, IReadOnlyList<string> warnings)
    {
        if (warnings.Count > 0)
        {
            response.Headers[GatewayHeaders.BudgetWarning] = warnings.ToArray();
        }
    }

    /// <summary>Dollars with up to twelve decimals (a picodollar), no trailing zeros, no exponent.</summary>
    internal static string FormatCost(decimal cost) => cost.ToString("0.############", System.Globalization.CultureInfo.InvariantCulture);

    internal static void WriteRouteHeaders(HttpResponse response, RouteInfo route, TimeSpan elapsed, TimeProvider time)
    {
        var headers = response.Headers;
        headers[GatewayHeaders.Model] = route.Model;
        headers[GatewayHeaders.RequestedModel] = route.RequestedModel;
        headers[GatewayHeaders.FallbackUsed] = route.FallbackUsed ? "true" : "false";
        headers[GatewayHeaders.Cache] = route.Cache switch
        {
            Caching.CacheStatus.Hit => "hit",
            Caching.CacheStatus.Miss => "miss",
            _ => "bypass",
        };
        if (route.Tier is not null)
        {
            headers[GatewayHeaders.Task] = route.Task;
            headers[GatewayHeaders.Tier] = route.Tier;
        }
        headers[GatewayHeaders.Provider] = route.Provider;
        headers[GatewayHeaders.Deployment] = route.Deployment;
        headers[GatewayHeaders.Attempts] = route.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var overhead = Math.Max(0, (elapsed - route.UpstreamTime).TotalMilliseconds);
        headers[GatewayHeaders.OverheadMs] = overhead.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        RateLimitHeaders.Write(headers, route.RateLimit, time.GetUtcNow());
    }
}
