using Baton.Accounting;
using Baton.RateLimiting;
using Baton.Requests;

namespace Baton.Core.Tests.Accounting;

public sealed class PromptTokenCounterTests
{
    private static ChatRequest Parse(string json) => ChatRequestParser.Parse(System.Text.Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Counts_with_tiktoken_encodings()
    {
        Assert.Equal(4, PromptTokenCounter.Count("Hello, world!", "gpt-4o"));
        Assert.Equal(4, PromptTokenCounter.Count("Hello, world!", "gpt-4"));
        Assert.Equal(0, PromptTokenCounter.Count(""));
    }

    [Fact]
    public void A_prompt_counts_its_texts_and_the_chat_formats_overhead()
    {
        // 3 to prime the reply, 3 per message, and the texts: "Hello, world!" is 4 tokens.
        var request = Parse("""{"model":"gpt-4o","messages":[{"role":"user","content":"Hello, world!"}]}""");
        Assert.Equal(3 + 3 + 4, PromptTokenCounter.CountPrompt(request));

        var parts = Parse("""{"model":"gpt-4o","messages":[{"role":"system","content":"Hello, world!"},{"role":"user","content":[{"type":"text","text":"Hello, world!"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}""");
        Assert.Equal(3 + (2 * 3) + (2 * 4), PromptTokenCounter.CountPrompt(parts));
    }

    [Fact]
    public void The_rate_limit_estimate_is_the_prompt_plus_the_completion_budget()
    {
        var request = Parse("""{"model":"gpt-4o","max_tokens":100,"messages":[{"role":"user","content":"Hello, world!"}]}""");
        Assert.Equal(10 + 100, TokenEstimator.Estimate(request, null));
        var unlimited = Parse("""{"model":"m","messages":[{"role":"user","content":"Hello, world!"}]}""");
        Assert.Equal(10 + 512, TokenEstimator.Estimate(unlimited, deploymentMaxTokens: 512));
        Assert.Equal(10 + TokenEstimator.DefaultMaxTokens, TokenEstimator.Estimate(unlimited, null));
    }
}
