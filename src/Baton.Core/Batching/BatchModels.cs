using System.Text.Json.Serialization;

namespace Baton.Batching;

/// <summary>Seed 001's <c>BatchLLMRequest</c>: 1 to 100 chat requests, each naming its provider and model.</summary>
public sealed class BatchRequest
{
    /// <summary>The chat requests, 1 to <see cref="BatchValidator.MaxItems"/>; the answers come back in this order.</summary>
    [JsonPropertyName("requests")]
    public List<BatchItem> Requests { get; set; } = [];
}

/// <summary>Seed 001's <c>LLMRequest</c>.</summary>
public sealed class BatchItem
{
    /// <summary>A configured provider's name.</summary>
    [JsonPropertyName("provider")]
    public string? Provider { get; set; }

    /// <summary>A configured model of that provider, or any upstream model id it serves; case-insensitive.</summary>
    [JsonPropertyName("model")]
    public string? Model { get; set; }

    /// <summary>The conversation, oldest first; at least one message.</summary>
    [JsonPropertyName("messages")]
    public List<BatchMessage> Messages { get; set; } = [];

    /// <summary>0.0 to 2.0; default 0.7.</summary>
    [JsonPropertyName("temperature")]
    public double? Temperature { get; set; }

    /// <summary>1 to 32,000; default 1,000.</summary>
    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; set; }

    /// <summary>Optional; unique within the batch.</summary>
    [JsonPropertyName("request_id")]
    public string? RequestId { get; set; }
}

/// <summary>Seed 001's <c>Message</c>: role <c>system</c>, <c>user</c> or <c>assistant</c>, and non-blank content.</summary>
public sealed class BatchMessage
{
    /// <summary><c>system</c>, <c>user</c> or <c>assistant</c>.</summary>
    [JsonPropertyName("role")]
    public string? Role { get; set; }

    /// <summary>The message's text: not blank, at most <see cref="BatchValidator.MaxContentLength"/> characters.</summary>
    [JsonPropertyName("content")]
    public string? Content { get; set; }
}

/// <summary>Seed 001's <c>BatchLLMResponse</c>.</summary>
public sealed record BatchResponse(
    [property: JsonPropertyName("responses")] IReadOnlyList<BatchItemResult> Responses,
    [property: JsonPropertyName("total_requests")] int TotalRequests,
    [property: JsonPropertyName("successful")] int Successful,
    [property: JsonPropertyName("failed")] int Failed,
    [property: JsonPropertyName("total_latency_ms")] double TotalLatencyMs,
    [property: JsonPropertyName("average_latency_ms")] double AverageLatencyMs);

/// <summary>Seed 001's <c>LLMResponse</c>: one item's answer, or its error.</summary>
public sealed record BatchItemResult(
    [property: JsonPropertyName("request_id")] string? RequestId,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("content")] string Content,
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens,
    [property: JsonPropertyName("latency_ms")] double LatencyMs,
    [property: JsonPropertyName("timestamp")] DateTimeOffset Timestamp,
    [property: JsonPropertyName("error")] string? Error);
