using Baton.Configuration;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Streaming;
using Baton.Gateway.Telemetry;
using Baton.Providers;
using Baton.Requests;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>POST /v1/chat/completions</c>: OpenAI's Chat Completions API in front of the Baton engine. The body is
/// read once into a pooled buffer, validated without building an object model, and answered either with the
/// upstream's <c>chat.completion</c> or with its chunks relayed as server-sent events as they arrive.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    /// <param name="http">The request.</param>
    /// <param name="services">The application's services.</param>
    /// <param name="filter">
    /// The request filter whose steps (the server span, authentication, the answer to escaped errors) this handler runs
    /// itself (see <see cref="InlineRequestFilter"/>): in the same method as the request's own steps, so that a request
    /// pays for one state machine rather than two. Null when the endpoint's filter pipeline runs them.
    /// </param>
    public static async Task HandleAsync(HttpContext http, GatewayServices services, GatewayRequestFilter? filter)
    {
        var activity = filter?.StartSpan(http);
        try
        {
            if (filter is not null && await filter.AuthenticateAsync(http) is { } refusal)
            {
                await ErrorResponses.WriteAsync(http, refusal);
                return;
            }
            var (engine, options, time) = (services.Engine, services.Options, services.Time);
            var started = time.GetTimestamp();
            try
            {
                using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
                var request = ChatRequestParser.Parse(body.Memory);
                request.Options = GatewayRequestOptions.Merge(http, request.Options, fingerprintKey: engine.Accounting?.TracksCallers == true);
                if (request.Stream)
                {
                    // Begun here: the wait for the upstream costs this method's state machine alone (see SseStreamWriter.WriteAsync).
                    await using var streamed = await engine.StreamAsync(request, http.RequestAborted);
                    await SseStreamWriter.WriteAsync(http, streamed, time, started, new ChatChunkFormatter(request.IncludeUsage));
                    return;
                }
                // The non-streamed answer is awaited and written here rather than in an async method of its own: one
                // state machine fewer (allocated, since the upstream call always completes later) for every request.
                using var result = await engine.CompleteAsync(request, http.RequestAborted);
                WriteHeaders(http.Response, result, time, started);
                await http.Response.Body.WriteAsync(result.Body, http.RequestAborted);
            }
            catch (BatonException ex)
            {
                await ErrorResponses.WriteAsync(http, ex);
            }
        }
        catch (Exception ex) when (filter is not null && ErrorResponses.Answers(http, ex))
        {
            await ErrorResponses.WriteEscapedAsync(http, ex);
        }
        finally
        {
            RequestActivity.Stop(activity, http);
        }
    }

    /// <summary>The status and headers of a non-streamed answer; its length, so that the body goes out in one write.</summary>
    private static void WriteHeaders(HttpResponse response, ChatCompletionResult result, TimeProvider time, long started)
    {
        WriteRouteHeaders(response, result.Route, time.GetElapsedTime(started), time);
        WriteBudgetWarnings(response, result.BudgetWarnings);
        if (result.CostUsd is { } cost)
        {
            response.Headers[GatewayHeaders.CostUsd] = FormatCost(cost);
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = result.Body.Length;
    }

    internal static void WriteBudgetWarnings(HttpResponse response, IReadOnlyList<string> warnings)
    {
        if (warnings.Count > 0)
        {
            response.Headers[GatewayHeaders.BudgetWarning] = warnings.ToArray();
        }
    }

    /// <summary>Dollars with up to twelve decimals (a picodollar), no trailing zeros, no exponent.</summary>
    internal static string FormatCost(decimal cost)
    {
        Span<char> text = stackalloc char[64];
        cost.TryFormat(text, out var written, "F12", System.Globalization.CultureInfo.InvariantCulture);
        return new string(WithoutTrailingZeros(text[..written]));
    }

    /// <summary>Milliseconds with up to three decimals, no trailing zeros (as the format <c>0.###</c> writes them).</summary>
    internal static string FormatMilliseconds(double milliseconds)
    {
        Span<char> text = stackalloc char[64];
        return milliseconds.TryFormat(text, out var written, "F3", System.Globalization.CultureInfo.InvariantCulture)
            ? new string(WithoutTrailingZeros(text[..written]))
            : milliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
    }

    // A standard fixed-point format and a trim rather than a custom format string, which is parsed on every call:
    // these go out with every answer.
    private static ReadOnlySpan<char> WithoutTrailingZeros(ReadOnlySpan<char> fixedPoint)
    {
        if (fixedPoint.IndexOf('.') < 0)
        {
            return fixedPoint;
        }
        fixedPoint = fixedPoint.TrimEnd('0');
        return fixedPoint[^1] == '.' ? fixedPoint[..^1] : fixedPoint;
    }

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
        headers[GatewayHeaders.OverheadMs] = FormatMilliseconds(overhead);
        RateLimitHeaders.Write(headers, route.RateLimit, time.GetUtcNow());
    }
}
