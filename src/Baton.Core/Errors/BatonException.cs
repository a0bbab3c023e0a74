using System.Net;

namespace Baton.Errors;

/// <summary>
/// A failure that Baton reports to its caller in OpenAI's error shape
/// (<c>{"error":{"message","type","param","code"}}</c>), with the HTTP status to answer with.
/// </summary>
public class BatonException : Exception
{
    /// <summary>A failure to report to the caller.</summary>
    /// <param name="statusCode">The HTTP status to answer with (4xx for the caller's mistakes, 5xx for failures upstream or in Baton).</param>
    /// <param name="type">OpenAI's error <c>type</c>; one of <see cref="ErrorTypes"/>.</param>
    /// <param name="message">What went wrong and, where it helps, what to do; shown to the caller, so never a secret.</param>
    /// <param name="param">The request parameter at fault, as a path (<c>messages[0].content</c>); null when none is.</param>
    /// <param name="code">A machine-readable code (<c>model_not_found</c>); null for none.</param>
    /// <param name="inner">The failure behind this one, for logs; never shown to the caller.</param>
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

    /// <summary>A 400 <c>invalid_request_error</c>: the request is wrong and sending it again unchanged will not help.</summary>
    /// <param name="message">What is wrong with the request, for the caller.</param>
    /// <param name="param">The parameter at fault, as a path; null when none is.</param>
    /// <param name="code">A machine-readable code (<c>invalid_value</c>); null for none.</param>
    public static BatonException InvalidRequest(string message, string? param, string? code = null) =>
        new((int)HttpStatusCode.BadRequest, ErrorTypes.InvalidRequest, message, param, code);
}

/// <summary>The error <c>type</c> values Baton uses, following OpenAI's names where OpenAI has one.</summary>
public static class ErrorTypes
{
    /// <summary>The request is wrong or not allowed (400, 403, 404, 413, 422): a bad value, a model the key may not use, an unknown model, a body too large.</summary>
    public const string InvalidRequest = "invalid_request_error";
    /// <summary>A key was refused: the caller's (missing, unknown, expired or revoked: 401), or the key Baton sent to an upstream.</summary>
    public const string Authentication = "authentication_error";
    /// <summary>A limit was reached (429): a key's rpm, tpm or max_parallel, a budget, or every deployment's rate limit.</summary>
    public const string RateLimit = "rate_limit_error";
    /// <summary>No upstream could answer (502, 503): unreachable, an error, an answer Baton cannot read, a cut stream, open breakers.</summary>
    public const string Upstream = "upstream_error";
    /// <summary>An attempt or the whole request ran out of time (504).</summary>
    public const string Timeout = "timeout_error";
    /// <summary>Baton itself could not serve the request (500, 503), e.g. an internal error or a shared store out of reach.</summary>
    public const string Server = "server_error";
}
