using Baton.Configuration;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Endpoints;
using Baton.Gateway.Streaming;
using Baton.Requests;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>
/// <c>POST /v1/messages</c>: Anthropic's Messages API in front of the one engine. The request is translated into the
/// engine's canonical Chat Completions request (so routing, fallbacks, retries, limits, cache, keys, budgets and the
/// ledger apply as to any chat), and carries its original body along: an Anthropic deployment is sent that body,
/// with only the model and the auth changed. The answer, whoever gave it, is written back as an Anthropic
/// <c>message</c> or event stream.
/// </summary>
internal static class AnthropicMessagesEndpoint
{
    public static async Task HandleAsync(HttpContext http, BatonEngine engine, BatonOptions options, TimeProvider time)
    {
        var started = time.GetTimestamp();
        try
        {
            using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
            var request = Translate(http, body.Memory, countOnly: false, fingerprintKey: engine.Accounting?.TracksCallers == true);
            if (request.Stream)
            {
                await using var streamed = await engine.StreamAsync(request, http.RequestAborted);
                await SseStreamWriter.WriteAsync(http, streamed, time, started, new AnthropicStreamFormatter());
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

    /// <summary>The engine's request for a Messages body: its translation, with the original attached for Anthropic deployments.</summary>
    internal static ChatRequest Translate(HttpContext http, ReadOnlyMemory<byte> body, bool countOnly, bool fingerprintKey)
    {
        var info = AnthropicRequestReader.Read(body, countOnly);
        var request = ChatRequestParser.Parse(info.ChatCompletionsBody);
        request.Options = GatewayRequestOptions.Merge(http, request.Options, fingerprintKey);
        request.Native = new NativeRequest(NativeRequest.AnthropicMessages, body, ProtocolHeaders(http.Request));
        return request;
    }

    /// <summary>The Anthropic protocol headers an Anthropic deployment is sent: the API version and the beta features asked for.</summary>
    private static Dictionary<string, string> ProtocolHeaders(HttpRequest request)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in (string[])["anthropic-version", "anthropic-beta"])
        {
            if (request.Headers.TryGetValue(name, out var value) && value.ToString() is { Length: > 0 } text)
            {
                headers[name] = text;
            }
        }
        return headers;
    }

    private static async Task CompleteAsync(HttpContext http, BatonEngine engine, ChatRequest request, TimeProvider time, long started)
    {
        using var result = await engine.CompleteAsync(request, http.RequestAborted);
        var message = AnthropicMessageWriter.Write(result.Body.Span, result.Usage);
        var response = http.Response;
        ChatCompletionsEndpoint.WriteRouteHeaders(response, result.Route, time.GetElapsedTime(started), time);
        ChatCompletionsEndpoint.WriteBudgetWarnings(response, result.BudgetWarnings);
        if (result.CostUsd is { } cost)
        {
            response.Headers[GatewayHeaders.CostUsd] = ChatCompletionsEndpoint.FormatCost(cost);
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = message.Length;
        await response.Body.WriteAsync(message, http.RequestAborted);
    }
}
