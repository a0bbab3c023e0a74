using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// The response object of one request (<c>"object": "response"</c>), in the field order of OpenAI's reference: what
/// the request asked for echoed back, and the status, output items and usage as they become known.
/// </summary>
internal sealed class ResponseObject(ResponsesRequest request, string id, long createdAt)
{
    public string Id { get; } = id;

    public long CreatedAt { get; } = createdAt;

    public ResponsesRequest Request { get; } = request;

    /// <summary>The model that answers: the requested name until the upstream has said which it is.</summary>
    public string Model { get; set; } = request.Model;

    /// <param name="status"><c>in_progress</c>, <c>completed</c>, <c>incomplete</c> or <c>failed</c>.</param>
    /// <param name="output">The output items.</param>
    /// <param name="usage">The tokens used; null while unknown.</param>
    /// <param name="incompleteReason"><c>max_output_tokens</c> or <c>content_filter</c> for an incomplete response.</param>
    /// <param name="error">Why a failed response failed.</param>
    public JsonObject Build(string status, JsonArray output, TokenUsage? usage = null, string? incompleteReason = null, BatonException? error = null) => new()
    {
        ["id"] = Id,
        ["object"] = "response",
        ["created_at"] = CreatedAt,
        ["status"] = status,
        ["error"] = error is null ? null : new JsonObject { ["code"] = error.Code ?? error.Type, ["message"] = error.Message },
        ["incomplete_details"] = incompleteReason is null ? null : new JsonObject { ["reason"] = incompleteReason },
        ["instructions"] = Request.Instructions,
        ["max_output_tokens"] = Request.MaxOutputTokens,
        ["model"] = Model,
        ["output"] = output,
        ["parallel_tool_calls"] = Request.ParallelToolCalls ?? true,
        ["previous_response_id"] = Request.PreviousResponseId,
        ["reasoning"] = new JsonObject { ["effort"] = Request.ReasoningEffort, ["summary"] = null },
        ["store"] = Request.Store,
        ["temperature"] = Request.Temperature,
        ["text"] = new JsonObject { ["format"] = Request.TextFormat?.DeepClone() ?? new JsonObject { ["type"] = "text" } },
        ["tool_choice"] = Request.ToolChoice?.DeepClone() ?? "auto",
        ["tools"] = Request.Tools.DeepClone(),
        ["top_p"] = Request.TopP,
        ["truncation"] = "disabled",
        ["usage"] = usage is { } used ? Usage(used) : null,
        ["user"] = Request.User,
        ["metadata"] = Request.Metadata.DeepClone(),
    };

    /// <summary>Usage in the Responses shape: cached input tokens and reasoning output tokens are parts of the totals.</summary>
    public static JsonObject Usage(TokenUsage usage) => new()
    {
        ["input_tokens"] = usage.PromptTokens,
        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CachedPromptTokens },
        ["output_tokens"] = usage.CompletionTokens,
        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokens },
        ["total_tokens"] = usage.TotalTokens,
    };

    /// <summary>The status and incomplete reason a chat finish reason means.</summary>
    public static (string Status, string? IncompleteReason) StatusOf(string? finishReason) => finishReason switch
    {
        "length" => ("incomplete", "max_output_tokens"),
        "content_filter" => ("incomplete", "content_filter"),
        _ => ("completed", null),
    };

    public static byte[] ToUtf8(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node, Json);

    /// <summary>Compact, with non-ASCII text as is (the HTML-safe default would escape it).</summary>
    public static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
