using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Baton.Gateway.Endpoints;

// These types only describe the Chat Completions API in the OpenAPI document. The endpoint itself reads
// and writes JSON without them, so that bodies are forwarded without being re-serialised.

/// <summary>An OpenAI Chat Completions request.</summary>
public sealed class ChatCompletionRequestSchema
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("messages")] public required IReadOnlyList<ChatMessageSchema> Messages { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    [JsonPropertyName("stream_options")] public StreamOptionsSchema? StreamOptions { get; init; }
    [JsonPropertyName("temperature")] public double? Temperature { get; init; }
    [JsonPropertyName("top_p")] public double? TopP { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }
    [JsonPropertyName("stop")] public JsonNode? Stop { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }
    [JsonPropertyName("user")] public string? User { get; init; }
    [JsonPropertyName("tools")] public IReadOnlyList<JsonObject>? Tools { get; init; }
    [JsonPropertyName("tool_choice")] public JsonNode? ToolChoice { get; init; }
    [JsonPropertyName("response_format")] public JsonObject? ResponseFormat { get; init; }
    [JsonPropertyName("metadata")] public Dictionary<string, string>? Metadata { get; init; }
}

public sealed class ChatMessageSchema
{
    [JsonPropertyName("role")] public required string Role { get; init; }
    [JsonPropertyName("content")] public JsonNode? Content { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("tool_calls")] public IReadOnlyList<JsonObject>? ToolCalls { get; init; }
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; init; }
}

public sealed class StreamOptionsSchema
{
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; init; }
}

/// <summary>An OpenAI <c>chat.completion</c> answer.</summary>
public sealed class ChatCompletionSchema
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object { get; init; } = "chat.completion";
    [JsonPropertyName("created")] public long Created { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("choices")] public required IReadOnlyList<JsonObject> Choices { get; init; }
    [JsonPropertyName("usage")] public JsonObject? Usage { get; init; }
}

/// <summary>OpenAI's error shape, with the provider and upstream status when the failure came from upstream.</summary>
public sealed class ErrorSchema
{
    [JsonPropertyName("error")] public required ErrorDetailSchema Error { get; init; }
}

public sealed class ErrorDetailSchema
{
    [JsonPropertyName("message")] public required string Message { get; init; }
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("param")] public string? Param { get; init; }
    [JsonPropertyName("code")] public string? Code { get; init; }
    [JsonPropertyName("provider")] public string? Provider { get; init; }
    [JsonPropertyName("upstream_status")] public int? UpstreamStatus { get; init; }
}

/// <summary>An OpenAI embeddings request.</summary>
public sealed class EmbeddingRequestSchema
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>A string, an array of strings, an array of token ids, or an array of arrays of token ids.</summary>
    [JsonPropertyName("input")] public required JsonNode Input { get; init; }
    /// <summary><c>float</c> (default) or <c>base64</c>.</summary>
    [JsonPropertyName("encoding_format")] public string? EncodingFormat { get; init; }
    [JsonPropertyName("dimensions")] public int? Dimensions { get; init; }
    [JsonPropertyName("user")] public string? User { get; init; }
}

/// <summary>An OpenAI embeddings answer.</summary>
public sealed class EmbeddingListSchema
{
    [JsonPropertyName("object")] public string Object { get; init; } = "list";
    /// <summary><c>{"object":"embedding","index":i,"embedding":[...] or "base64"}</c> per input.</summary>
    [JsonPropertyName("data")] public required IReadOnlyList<JsonObject> Data { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("usage")] public required JsonObject Usage { get; init; }
}
