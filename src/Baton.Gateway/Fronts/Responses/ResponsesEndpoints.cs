using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Configuration;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Endpoints;
using Baton.Gateway.Streaming;
using Baton.Requests;
using Baton.Responses;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// OpenAI's Responses API in front of the one engine: <c>POST /v1/responses</c> is translated into a chat request
/// (see <see cref="ChatBodyBuilder"/>), so routing, fallbacks, retries, limits, cache, keys, budgets, costs and stream
/// failover apply exactly as to <c>/v1/chat/completions</c>; the answer is translated back into a response object or
/// the Responses event sequence. Responses created with <c>store</c> (the default) are kept for
/// <c>previous_response_id</c>, <c>GET</c>, <c>DELETE</c> and <c>input_items</c>, owned by the caller's key: to another
/// virtual key they do not exist (404), the master key sees them all.
/// </summary>
internal static class ResponsesEndpoints
{
    public static async Task CreateAsync(HttpContext http, BatonEngine engine, BatonOptions options, IResponseStore store, TimeProvider time)
    {
        var started = time.GetTimestamp();
        try
        {
            using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
            var request = ResponsesRequestReader.Read(body.Memory);
            var items = new List<JsonNode?>();
            if (request.PreviousResponseId is { } previousId)
            {
                var previous = await FindAsync(http, store, options, time, previousId)
                    ?? throw new BatonException(StatusCodes.Status404NotFound, ErrorTypes.InvalidRequest,
                        $"Previous response with id '{previousId}' not found.", "previous_response_id", "previous_response_not_found");
                // The conversation so far: what the previous response was given (its own predecessors first), then its output.
                items.AddRange(JsonNode.Parse(previous.InputItemsJson)!.AsArray());
                items.AddRange(JsonNode.Parse(previous.ResponseJson)!["output"]!.AsArray()
                    .Where(item => (string?)item!["type"] is "message" or "function_call"));
            }
            items.AddRange(request.InputItems);

            var chat = ChatRequestParser.Parse(ChatBodyBuilder.Build(request, items));
            chat.Options = GatewayRequestOptions.Merge(http, chat.Options, fingerprintKey: engine.Accounting?.TracksCallers == true);
            var created = time.GetUtcNow();
            var response = new ResponseObject(request, ResponseIds.Response(), created.ToUnixTimeSeconds());
            var saving = new Saving(store, GatewayAuth.Owner(http), created, request.Store ? JsonSerializer.Serialize(items, ResponseObject.Json) : null);
            if (request.Stream)
            {
                await using var streamed = await engine.StreamAsync(chat, http.RequestAborted);
                await SseStreamWriter.WriteAsync(http, streamed, time, started, new ResponsesStreamFormatter(response, saving));
            }
            else
            {
                await CompleteAsync(http, engine, chat, response, saving, time, started);
            }
        }
        catch (BatonException ex)
        {
            await ErrorResponses.WriteAsync(http, ex);
        }
    }

    public static async Task GetAsync(HttpContext http, BatonOptions options, IResponseStore store, TimeProvider time, string responseId)
    {
        if (await FindAsync(http, store, options, time, responseId) is not { } stored)
        {
            await ErrorResponses.WriteAsync(http, NotFound(responseId));
            return;
        }
        var json = Encoding.UTF8.GetBytes(stored.ResponseJson);
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = json.Length;
        await http.Response.Body.WriteAsync(json, http.RequestAborted);
    }

    public static async Task DeleteAsync(HttpContext http, BatonOptions options, IResponseStore store, TimeProvider time, string responseId)
    {
        if (await FindAsync(http, store, options, time, responseId) is null || !await store.DeleteAsync(responseId, http.RequestAborted))
        {
            await ErrorResponses.WriteAsync(http, NotFound(responseId));
            return;
        }
        await http.Response.WriteAsJsonAsync(new ResponseDeletedView(responseId, "response", true), JobViews.Json, http.RequestAborted);
    }

    /// <summary>The input items of a stored response, the conversation's earlier ones included: <c>?limit=</c> (1 to 100, default 20), <c>order=asc|desc</c> (default desc), <c>after=</c> an item id.</summary>
    public static async Task ListInputItemsAsync(HttpContext http, BatonOptions options, IResponseStore store, TimeProvider time, string responseId)
    {
        var query = http.Request.Query;
        var limit = 20;
        if (query["limit"].ToString() is { Length: > 0 } limitText &&
            (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            throw BatonException.InvalidRequest($"Invalid 'limit': '{limitText}'; expected an integer from 1 to 100.", "limit", "invalid_value");
        }
        var order = query["order"].ToString() is { Length: > 0 } orderText ? orderText : "desc";
        if (order is not ("asc" or "desc"))
        {
            throw BatonException.InvalidRequest($"Invalid 'order': '{order}'; expected 'asc' or 'desc'.", "order", "invalid_value");
        }
        if (await FindAsync(http, store, options, time, responseId) is not { } stored)
        {
            await ErrorResponses.WriteAsync(http, NotFound(responseId));
            return;
        }
        var items = JsonNode.Parse(stored.InputItemsJson)!.AsArray().ToList();
        if (order == "desc")
        {
            items.Reverse();
        }
        if (query["after"].ToString() is { Length: > 0 } after)
        {
            var position = items.FindIndex(item => (string?)item!["id"] == after);
            if (position < 0)
            {
                throw BatonException.InvalidRequest($"No input item with id '{after}' in response '{responseId}'.", "after", "invalid_value");
            }
            items = items[(position + 1)..];
        }
        var page = items.Take(limit).Select(item => item!.DeepClone()).ToList();
        var list = new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. page]),
            ["first_id"] = page.Count > 0 ? (string?)page[0]!["id"] : null,
            ["last_id"] = page.Count > 0 ? (string?)page[^1]!["id"] : null,
            ["has_more"] = items.Count > limit,
        };
        var json = ResponseObject.ToUtf8(list);
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(json, http.RequestAborted);
    }

    private static async Task CompleteAsync(HttpContext http, BatonEngine engine, ChatRequest chat, ResponseObject response, Saving saving, TimeProvider time, long started)
    {
        using var result = await engine.CompleteAsync(chat, http.RequestAborted);
        var (output, model, status, incompleteReason) = CompletionOutput.Read(result.Body.Span, response.Request.Model);
        response.Model = model;
        var final = response.Build(status, output, result.Usage, incompleteReason);
        await saving.SaveAsync(response, final);

        var json = ResponseObject.ToUtf8(final);
        var httpResponse = http.Response;
        ChatCompletionsEndpoint.WriteRouteHeaders(httpResponse, result.Route, time.GetElapsedTime(started), time);
        ChatCompletionsEndpoint.WriteBudgetWarnings(httpResponse, result.BudgetWarnings);
        if (result.CostUsd is { } cost)
        {
            httpResponse.Headers[GatewayHeaders.CostUsd] = ChatCompletionsEndpoint.FormatCost(cost);
        }
        httpResponse.StatusCode = StatusCodes.Status200OK;
        httpResponse.ContentType = "application/json";
        httpResponse.ContentLength = json.Length;
        await httpResponse.Body.WriteAsync(json, http.RequestAborted);
    }

    /// <summary>
    /// The stored response with this id if the caller may see it: within the retention (an expired one is gone even
    /// before the purge removes it), and the caller's own unless it is the master key or keys are off.
    /// </summary>
    private static async Task<StoredResponse?> FindAsync(HttpContext http, IResponseStore store, BatonOptions options, TimeProvider time, string id)
    {
        var stored = await store.GetAsync(id, http.RequestAborted);
        if (stored is null || stored.CreatedAt + options.Responses.Retention <= time.GetUtcNow())
        {
            return null;
        }
        return GatewayAuth.VisibleOwner(http) is { } owner && stored.Owner != owner ? null : stored;
    }

    private static BatonException NotFound(string id) =>
        new(StatusCodes.Status404NotFound, ErrorTypes.InvalidRequest, $"Response with id '{id}' not found.", "response_id", "not_found");

    /// <summary>What storing a response needs besides the response: null input items when the request said <c>store: false</c>.</summary>
    internal sealed record Saving(IResponseStore Store, string? Owner, DateTimeOffset CreatedAt, string? InputItemsJson)
    {
        public Task SaveAsync(ResponseObject response, JsonObject final) =>
            InputItemsJson is null ? Task.CompletedTask : SaveAsync(response, ResponseObject.ToUtf8(final));

        /// <summary>Stores the response whose final object is <paramref name="final"/> (its UTF-8 JSON), when asked to.</summary>
        public async Task SaveAsync(ResponseObject response, ReadOnlyMemory<byte> final)
        {
            if (InputItemsJson is null)
            {
                return;
            }
            // Not the request's token: an answer the caller has received is kept even if it hangs up right after.
            await Store.SaveAsync(new StoredResponse(response.Id, Owner, response.Model, CreatedAt, InputItemsJson,
                Encoding.UTF8.GetString(final.Span)), CancellationToken.None).ConfigureAwait(false);
        }
    }
}

/// <summary>The answer of <c>DELETE /v1/responses/{response_id}</c>.</summary>
public sealed record ResponseDeletedView(string Id, string Object, bool Deleted);
