using Baton.Requests;

namespace Baton.RateLimiting;

/// <summary>
/// The tokens a request will use, estimated before the call so the token bucket can be charged up front;
/// the reported usage corrects the charge afterwards. A tokenizer can replace this rough rule later.
/// </summary>
public static class TokenEstimator
{
    /// <summary>The completion budget assumed when neither the request nor the deployment sets <c>max_tokens</c>.</summary>
    public const int DefaultMaxTokens = 1024;

    /// <summary>About four characters per token of prompt, plus the most the completion may take.</summary>
    public static int Estimate(ChatRequest request, int? deploymentMaxTokens) =>
        (int)Math.Min(int.MaxValue, (long)Math.Ceiling(request.PromptCharacters / 4.0) + (request.MaxTokens ?? deploymentMaxTokens ?? DefaultMaxTokens));
}
