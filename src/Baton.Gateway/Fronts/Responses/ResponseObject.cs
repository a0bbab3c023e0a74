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

    /// <summary>
    /// Writes the response object <see cref="Build"/> would make, field for field and byte for byte, straight into
    /// <paramref name="json"/>, up to the <c>output</c> property's name: the caller writes the output items, then
    /// calls <see cref="WriteEnd"/>. A streamed answer writes its response object three times; building it as JSON
    /// nodes (and cloning the request's) each time was most of what the stream allocated.
    /// </summary>
    public void WriteStart(Utf8JsonWriter json, string status, string? incompleteReason = null, BatonException? error = null)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, Id);
        json.WriteString("object"u8, "response"u8);
        json.WriteNumber("created_at"u8, CreatedAt);
        json.WriteString("status"u8, status);
        if (error is null)
        {
            json.WriteNull("error"u8);
        }
        else
        {
            json.WriteStartObject("error"u8);
            json.WriteString("code"u8, error.Code ?? error.Type);
            json.WriteString("message"u8, error.Message);
            json.WriteEndObject();
        }
        if (incompleteReason is null)
        {
            json.WriteNull("incomplete_details"u8);
        }
        else
        {
            json.WriteStartObject("incomplete_details"u8);
            json.WriteString("reason"u8, incompleteReason);
            json.WriteEndObject();
        }
        WriteStringOrNull(json, "instructions"u8, Request.Instructions);
        if (Request.MaxOutputTokens is { } maxOutputTokens)
        {
            json.WriteNumber("max_output_tokens"u8, maxOutputTokens);
        }
        else
        {
            json.WriteNull("max_output_tokens"u8);
        }
        json.WriteString("model"u8, Model);
        json.WritePropertyName("output"u8);
    }

    /// <summary>Writes the fields after the output items and closes the object (see <see cref="WriteStart"/>).</summary>
    public void WriteEnd(Utf8JsonWriter json, TokenUsage? usage = null)
    {
        json.WriteBoolean("parallel_tool_calls"u8, Request.ParallelToolCalls ?? true);
        WriteStringOrNull(json, "previous_response_id"u8, Request.PreviousResponseId);
        json.WriteStartObject("reasoning"u8);
        WriteStringOrNull(json, "effort"u8, Request.ReasoningEffort);
        json.WriteNull("summary"u8);
        json.WriteEndObject();
        json.WriteBoolean("store"u8, Request.Store);
        WriteNumberOrNull(json, "temperature"u8, Request.Temperature);
        json.WriteStartObject("text"u8);
        json.WritePropertyName("format"u8);
        if (Request.TextFormat is { } format)
        {
            format.WriteTo(json, Json);
        }
        else
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "text"u8);
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WritePropertyName("tool_choice"u8);
        if (Request.ToolChoice is { } toolChoice)
        {
            toolChoice.WriteTo(json, Json);
        }
        else
        {
            json.WriteStringValue("auto"u8);
        }
        json.WritePropertyName("tools"u8);
        Request.Tools.WriteTo(json, Json);
        WriteNumberOrNull(json, "top_p"u8, Request.TopP);
        json.WriteString("truncation"u8, "disabled"u8);
        if (usage is { } used)
        {
            json.WriteStartObject("usage"u8);
            json.WriteNumber("input_tokens"u8, used.PromptTokens);
            json.WriteStartObject("input_tokens_details"u8);
            json.WriteNumber("cached_tokens"u8, used.CachedPromptTokens);
            json.WriteEndObject();
            json.WriteNumber("output_tokens"u8, used.CompletionTokens);
            json.WriteStartObject("output_tokens_details"u8);
            json.WriteNumber("reasoning_tokens"u8, used.ReasoningTokens);
            json.WriteEndObject();
            json.WriteNumber("total_tokens"u8, used.TotalTokens);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("usage"u8);
        }
        WriteStringOrNull(json, "user"u8, Request.User);
        json.WritePropertyName("metadata"u8);
        Request.Metadata.WriteTo(json, Json);
        json.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, ReadOnlySpan<byte> name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

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
