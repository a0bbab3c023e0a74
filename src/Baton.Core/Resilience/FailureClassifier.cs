using Baton.Errors;

namespace Baton.Resilience;

/// <summary>What to do after a deployment failed.</summary>
public enum FailureAction
{
    /// <summary>A passing trouble (throttled, overloaded, timed out, unreachable): try the same deployment again.</summary>
    Retry,

    /// <summary>This deployment cannot answer (its key was refused): do not insist, but another may answer.</summary>
    HandOver,

    /// <summary>The prompt does not fit this model's context window: only a larger-context model can answer.</summary>
    ContextWindowExceeded,

    /// <summary>The request itself is wrong: every deployment would refuse it, so the caller gets the error.</summary>
    Fail,
}

/// <summary>Sorts provider failures into retry, hand over, or fail (seed 003's rules, OpenAI's statuses).</summary>
public static class FailureClassifier
{
    private static readonly string[] ContextWindowPhrases =
    [
        "context_length_exceeded",
        "context length",
        "context window",
        "maximum context",
        "prompt is too long",
        "too many tokens",
        "input is too long",
        "exceeds the maximum number of tokens",
        "reduce the length of the messages",
    ];

    /// <summary>What to do after <paramref name="error"/>: retry the deployment, hand over to the next, look for a larger context window, or fail.</summary>
    public static FailureAction Classify(BatonException error)
    {
        if (error.Code == "context_length_exceeded" || (error.Type == ErrorTypes.InvalidRequest && MentionsContextWindow(error.Message)))
        {
            return FailureAction.ContextWindowExceeded;
        }
        return error.UpstreamStatus switch
        {
            408 or 429 or 500 or 502 or 503 or 504 or 529 => FailureAction.Retry,
            401 or 403 => FailureAction.HandOver,
            400 or 404 or 413 or 422 => FailureAction.Fail,
            // No upstream status: Baton's own view of the call (timed out, unreachable, stream cut, malformed answer).
            null => error.Type == ErrorTypes.InvalidRequest ? FailureAction.Fail : FailureAction.Retry,
            // Other statuses (e.g. 402 payment required, 409) say nothing about another deployment.
            _ => FailureAction.HandOver,
        };
    }

    /// <summary>Failures that speak of the deployment's health, so the circuit breaker counts them.</summary>
    public static bool CountsAgainstHealth(BatonException error) => Classify(error) is FailureAction.Retry or FailureAction.HandOver
        && error.UpstreamStatus != 429;

    private static bool MentionsContextWindow(string message) =>
        ContextWindowPhrases.Any(phrase => message.Contains(phrase, StringComparison.OrdinalIgnoreCase));
}
