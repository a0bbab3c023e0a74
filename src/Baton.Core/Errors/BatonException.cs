using System.Net;

namespace Baton.Errors;

/// <summary>
/// A failure that Baton reports to its caller in OpenAI's error shape
/// (<c>{"error":{"message","type","param","code"}}</c>), with the HTTP status to answer with.
/// </summary>
public class BatonException : Exception
{
    public BatonException(int statusCode, string type, string message, string? param = null, string? code = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
        Type = type;
        Param = param;
        Code = code;
    }

    /// <summary>The HTTP status Baton answers with.</summary>
    public int StatusCode { get; }

    /// <summary>OpenAI's error <c>type</c>, e.g. <c>invalid_request_error</c>.</summary>
    public string Type { get; }

    /// <summary>The request parameter at fault, if any.</summary>
    public string? Param { get; }

    /// <summary>A machine-readable code, e.g. <c>model_not_found</c>.</summary>
    public string? Code { get; }

    /// <summary>The configured provider that failed, when the failure came from upstream.</summary>
    public string? Provider { get; init; }

    /// <summary>The status the upstream answered with, when the failure came from upstream.</summary>
    public int? UpstreamStatus { get; init; }

    /// <summary>How long the upstream asked callers to wait before trying again, if it said.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Every failed attempt, in order, when the request tried several deployments.</summary>
    public IReadOnlyList<AttemptFailure> Attempts { get; init; } = [];

    /// <summary>The kind of failure, for applications that handle kinds differently.</summary>
    public BatonErrorKind Kind => Code switch
    {
        "context_length_exceeded" => BatonErrorKind.ContextLengthExceeded,
        "content_filter" or "content_filtered" => BatonErrorKind.ContentFiltered,
        "provider_unavailable" or "circuit_open" or "no_deployment" => BatonErrorKind.ProviderUnavailable,
        _ when Type == ErrorTypes.RateLimit || UpstreamStatus == 429 => BatonErrorKind.RateLimited,
        _ when Type == ErrorTypes.Timeout => BatonErrorKind.Timeout,
        _ when Type == ErrorTypes.Authentication => BatonErrorKind.Authentication,
        _ when Type == ErrorTypes.InvalidRequest && Resilience.FailureClassifier.Classify(this) == Resilience.FailureAction.ContextWindowExceeded
            => BatonErrorKind.ContextLengthExceeded,
        _ when Type == ErrorTypes.InvalidRequest && MentionsContentFilter(Message) => BatonErrorKind.ContentFiltered,
        _ when Type == ErrorTypes.InvalidRequest => BatonErrorKind.InvalidRequest,
        _ => BatonErrorKind.ProviderError,
    };

    /// <summary>What the upstream's <c>x-ratelimit-*</c> headers said about its limits, if it sent them.</summary>
    public RateLimiting.UpstreamRateLimit? UpstreamRateLimit { get; init; }

    private static bool MentionsContentFilter(string message) =>
        message.Contains("content_filter", StringComparison.OrdinalIgnoreCase) ||
        message.Contains("content management policy", StringComparison.OrdinalIgnoreCase) ||
        message.Contains("blocked due to safety", StringComparison.OrdinalIgnoreCase);

    public static BatonException InvalidRequest(string message, string? param, string? code = null) =>
        new((int)HttpStatusCode.BadRequest, ErrorTypes.InvalidRequest, message, param, code);
}

/// <summary>The error <c>type</c> values Baton uses, following OpenAI's names where OpenAI has one.</summary>
public static class ErrorTypes
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string RateLimit = "rate_limit_error";
    public const string Upstream = "upstream_error";
    public const string Timeout = "timeout_error";
    public const string Server = "server_error";
}
