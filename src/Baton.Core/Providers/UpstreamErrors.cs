using System.Net;
using System.Text.Json;
using Baton.Errors;

namespace Baton.Providers;

/// <summary>
/// Turns a provider's failure into a <see cref="BatonException"/> in OpenAI's vocabulary, keeping the
/// provider's name and upstream status. It understands the error bodies of OpenAI (and compatibles),
/// Anthropic, Gemini, Azure and Ollama. Keys are removed from every message by the <see cref="SecretRedactor"/>.
/// </summary>
public static class UpstreamErrors
{
    public static BatonException FromResponse(string provider, int status, ReadOnlySpan<byte> body, TimeSpan? retryAfter, SecretRedactor redactor,
        RateLimiting.UpstreamRateLimit? rateLimit = null)
    {
        var detail = ExtractMessage(body, redactor) ?? (status == 0 ? "no details" : ((HttpStatusCode)status).ToString());
        var message = redactor.Redact($"Provider '{provider}' answered {status}: {detail}");
        var (type, code) = status switch
        {
            401 or 403 => (ErrorTypes.Authentication, "upstream_authentication_failed"),
            429 => (ErrorTypes.RateLimit, "upstream_rate_limited"),
            400 or 404 or 413 or 422 => (ErrorTypes.InvalidRequest, "upstream_invalid_request"),
            408 or 504 => (ErrorTypes.Timeout, "upstream_timeout"),
            _ => (ErrorTypes.Upstream, "upstream_error"),
        };
        // 529 is Anthropic's "overloaded"; clients know it as 503.
        var answerStatus = status == 529 ? 503 : status is >= 400 and <= 599 ? status : 502;
        return new BatonException(answerStatus, type, message, code: code)
        {
            Provider = provider,
            UpstreamStatus = status,
            RetryAfter = retryAfter,
            UpstreamRateLimit = rateLimit,
        };
    }

    public static BatonException Unreachable(string provider, Exception error, SecretRedactor redactor) =>
        new(502, ErrorTypes.Upstream, redactor.Redact($"Could not reach provider '{provider}': {error.Message}"), code: "provider_unavailable", inner: null)
        {
            Provider = provider,
        };

    public static BatonException TimedOut(string provider, TimeSpan timeout) =>
        new(504, ErrorTypes.Timeout, $"Provider '{provider}' did not answer within {timeout.TotalSeconds:0.###} s.", code: "upstream_timeout")
        {
            Provider = provider,
        };

    public static BatonException Malformed(string provider, string what) =>
        new(502, ErrorTypes.Upstream, $"Provider '{provider}' sent {what} that is not valid JSON.", code: "upstream_malformed_response")
        {
            Provider = provider,
        };

    /// <summary>Valid JSON in a shape the provider's API does not send (an array for an object, a string for a part).</summary>
    public static BatonException Unreadable(string provider, string what) =>
        new(502, ErrorTypes.Upstream, $"Provider '{provider}' sent {what} in a shape Baton cannot read.", code: "upstream_malformed_response")
        {
            Provider = provider,
        };

    /// <summary>True for the exceptions <see cref="System.Text.Json.JsonElement"/> throws when a value is not of the kind read.</summary>
    public static bool IsShapeError(Exception error) => error is InvalidOperationException or KeyNotFoundException or FormatException;

    public static BatonException StreamInterrupted(string provider, string reason) =>
        new(502, ErrorTypes.Upstream, $"The stream from provider '{provider}' was interrupted: {reason}", code: "stream_interrupted")
        {
            Provider = provider,
        };

    /// <summary>Reads the retry delay a provider asked for: <c>retry-after-ms</c>, or <c>Retry-After</c> in seconds or as a date.</summary>
    public static TimeSpan? ReadRetryAfter(System.Net.Http.Headers.HttpResponseHeaders headers, TimeProvider time)
    {
        if (headers.TryGetValues("retry-after-ms", out var ms) &&
            double.TryParse(ms.FirstOrDefault(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var milliseconds) &&
            milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }
        var retryAfter = headers.RetryAfter;
        if (retryAfter?.Delta is TimeSpan delta)
        {
            return delta;
        }
        if (retryAfter?.Date is DateTimeOffset date)
        {
            var wait = date - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }

    /// <summary>How much of an error body that is not JSON goes into the message, in characters.</summary>
    internal const int MaxRawDetailLength = 500;

    private static string? ExtractMessage(ReadOnlySpan<byte> body, SecretRedactor redactor)
    {
        if (body.IsEmpty)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.String) return error.GetString();
                    if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var nested) && nested.ValueKind == JsonValueKind.String)
                    {
                        return nested.GetString();
                    }
                }
                if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    return message.GetString();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the raw text.
        }
        // Keys are removed from the whole body before it is cut: cut first, a key straddling the cut would lose
        // its end and no longer be recognised as a key. (A key's beginning that ends the body, where the upstream
        // or the read limit cut it, is caught by the redactor's fragment rule.)
        var text = redactor.Redact(System.Text.Encoding.UTF8.GetString(body)).Trim();
        if (text.Length > MaxRawDetailLength)
        {
            var cut = char.IsHighSurrogate(text[MaxRawDetailLength - 1]) ? MaxRawDetailLength - 1 : MaxRawDetailLength;
            text = text[..cut].TrimEnd();
        }
        return text.Length == 0 ? null : text;
    }
}
