using Baton.Accounting;
using Baton.Requests;

namespace Baton.RateLimiting;

/// <summary>
/// The tokens a request will use, estimated before the call so the token bucket can be charged up front:
/// the prompt counted with a tiktoken encoding (<see cref="PromptTokenCounter"/>) plus the most the completion
/// may take. The reported usage corrects the charge afterwards.
/// </summary>
public static class TokenEstimator
{
    /// <summary>The completion budget assumed when neither the request nor the deployment sets <c>max_tokens</c>.</summary>
    public const int DefaultMaxTokens = 1024;

    /// <summary>
    /// A request small against the bucket (under a tenth of it by a rough count) is charged the rough count:
    /// a tokenizer pass would not change whether it fits, and the reported usage corrects the charge anyway.
    /// </summary>
    public static int Estimate(ChatRequest request, int? deploymentMaxTokens, int tokensPerMinute)
    {
        var rough = (long)(request.PromptCharacters / 4) + CompletionBudget(request, deploymentMaxTokens);
        return rough * 10 < tokensPerMinute ? (int)rough : Estimate(request, deploymentMaxTokens);
    }

    /// <summary>
    /// The tokens <paramref name="request"/> may use: its prompt counted with the model's tokenizer plus its completion
    /// budget (<see cref="CompletionBudget"/>); at most <see cref="int.MaxValue"/>.
    /// </summary>
    /// <param name="request">The parsed request.</param>
    /// <param name="deploymentMaxTokens">The deployment's own <c>maxTokens</c>, used when the request sets none; null for none.</param>
    public static int Estimate(ChatRequest request, int? deploymentMaxTokens) =>
        (int)Math.Min(int.MaxValue, (long)PromptTokenCounter.CountPrompt(request) + CompletionBudget(request, deploymentMaxTokens));

    /// <summary>The completion tokens a request may take: its <c>max_tokens</c>, else the deployment's, else <see cref="DefaultMaxTokens"/>.</summary>
    public static int CompletionBudget(ChatRequest request, int? deploymentMaxTokens) => request.MaxTokens ?? deploymentMaxTokens ?? DefaultMaxTokens;
}
