namespace Baton.Errors;

/// <summary>
/// What went wrong, in the terms an application acts on (seeds 003 and 004), whatever the provider's own
/// error format. Read it from <see cref="BatonException.Kind"/>.
/// </summary>
public enum BatonErrorKind
{
    /// <summary>Something else went wrong upstream (a 5xx, a malformed answer, a cut stream).</summary>
    ProviderError,
    /// <summary>Throttled: by the provider (429) or by Baton's own limits. See <see cref="BatonException.RetryAfter"/>.</summary>
    RateLimited,
    /// <summary>An attempt, the first chunk, or the whole request took too long.</summary>
    Timeout,
    /// <summary>No deployment could be reached, or every one is paused by its circuit breaker.</summary>
    ProviderUnavailable,
    /// <summary>A provider refused its key (401, 403).</summary>
    Authentication,
    /// <summary>The request is wrong; every deployment would refuse it.</summary>
    InvalidRequest,
    /// <summary>The provider's content filter refused the prompt.</summary>
    ContentFiltered,
    /// <summary>The prompt does not fit the model's context window.</summary>
    ContextLengthExceeded,
}

/// <summary>One failed attempt of a request: where it went and why it failed (secrets already removed).</summary>
public sealed record AttemptFailure(string Deployment, int? UpstreamStatus, string? Code, string Message);
