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

    /// <summary>What the upstream's <c>x-ratelimit-*</c> headers said about its limits, if it sent them.</summary>
    public RateLimiting.UpstreamRateLimit? UpstreamRateLimit { get; init; }

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
