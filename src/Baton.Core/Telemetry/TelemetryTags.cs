namespace Baton.Telemetry;

/// <summary>
/// Attribute names: the OpenTelemetry GenAI semantic conventions' (spelled as Microsoft.Extensions.AI's
/// <c>OpenTelemetryChatClient</c> spells them), and Baton's own under <c>baton.</c>.
/// </summary>
internal static class TelemetryTags
{
    public const string OperationName = "gen_ai.operation.name";
    public const string Chat = "chat";

    /// <summary>The GenAI operation name of an embeddings request.</summary>
    public const string Embeddings = "embeddings";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string RequestMaxTokens = "gen_ai.request.max_tokens";
    public const string ResponseModel = "gen_ai.response.model";
    public const string ResponseId = "gen_ai.response.id";
    public const string FinishReasons = "gen_ai.response.finish_reasons";
    public const string TimeToFirstChunk = "gen_ai.response.time_to_first_chunk";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string CacheReadInputTokens = "gen_ai.usage.cache_read.input_tokens";
    public const string CacheCreationInputTokens = "gen_ai.usage.cache_creation.input_tokens";
    public const string ReasoningOutputTokens = "gen_ai.usage.reasoning.output_tokens";
    public const string TokenType = "gen_ai.token.type";
    public const string InputMessages = "gen_ai.input.messages";
    public const string OutputMessages = "gen_ai.output.messages";
    public const string ConversationId = "gen_ai.conversation.id";
    public const string ErrorType = "error.type";
    public const string HttpStatus = "http.response.status_code";

    public const string Model = "baton.model";
    public const string Provider = "baton.provider";
    public const string Deployment = "baton.deployment";
    public const string Attempts = "baton.attempts";
    public const string Attempt = "baton.attempt";
    public const string Fallback = "baton.fallback";
    public const string Cache = "baton.cache";
    public const string CacheResult = "baton.cache.result";
    public const string CostUsd = "baton.cost_usd";
    public const string KeyId = "baton.key_id";
    public const string Task = "baton.task";
    public const string Tier = "baton.tier";
    public const string Stream = "baton.stream";
    public const string StreamResumed = "baton.stream_resumed";
    public const string Outcome = "baton.outcome";
    public const string BreakerState = "baton.breaker.state";
    public const string WaitMs = "baton.wait_ms";
    public const string Reason = "baton.reason";

    public const string RateLimitWaitEvent = "baton.rate_limit.wait";
    public const string RateLimitRefusedEvent = "baton.rate_limit.refused";
    public const string StreamResumeEvent = "baton.stream.resume";

    /// <summary>The <c>baton.outcome</c> of an answered request.</summary>
    public const string Ok = "ok";

    /// <summary>The <c>baton.key_id</c> of a request without a caller key (metrics need a value).</summary>
    public const string NoKey = "none";
}
