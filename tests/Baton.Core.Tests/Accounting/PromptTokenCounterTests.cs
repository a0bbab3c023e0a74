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

    /// <summary>Ordinary texts longer than one piece: prose, code, markdown, CJK, emoji, whitespace and a special token's text.</summary>
    public static readonly TheoryData<string> OrdinaryTexts = new(
        string.Concat(Enumerable.Repeat("The gateway routes each request to a healthy deployment, and records its usage; costs stay exact. ", 40)),
        string.Concat(Enumerable.Repeat("public static int Count(string text) => text.Length == 0 ? 0 : For(model).CountTokens(text);\n    // why: bounded\n", 30)),
        string.Concat(Enumerable.Repeat("| model | cost |\n|---|---:|\n| gpt-4o | $2.50 |\n\n> Quote, don't repeat: we're done. 12345678901234\n", 30)),
        string.Concat(Enumerable.Repeat("我们今天讨论一下这个问题，然后明天再继续。日本語のテキストも。😀👍🏽 ", 40)),
        "Indented\n" + new string(' ', 60) + "code\t\tand <|endoftext|> text\r\n\r\n" + string.Concat(Enumerable.Repeat("https://example.com/a/b?c=d&e=f ", 20)));

    [Theory]
    [MemberData(nameof(OrdinaryTexts))]
    public void Counting_in_bounded_pieces_gives_the_tokenizers_own_count_for_ordinary_text(string text)
    {
        Assert.True(text.Length > BoundedTokenCount.MaxPieceChars);
        foreach (var model in new[] { "gpt-4o", "gpt-4" })
        {
            Assert.Equal(PromptTokenCounter.For(model).CountTokens(text), PromptTokenCounter.Count(text, model));
        }
    }

    [Fact]
    public void A_run_without_spaces_is_counted_in_bounded_slices_close_to_the_exact_count()
    {
        foreach (var run in new[] { new string('x', 6000), new string('!', 6000), new string(' ', 6000) + "x", new string('你', 3000) })
        {
            var exact = PromptTokenCounter.For("gpt-4o").CountTokens(run);
            var bounded = PromptTokenCounter.Count(run, "gpt-4o");
            // At most a token or two apart at each slice boundary.
            var slices = (run.Length / BoundedTokenCount.MaxPieceChars) + 1;
            Assert.InRange(bounded, exact - (2 * slices), exact + (2 * slices));
        }
    }

    [Fact]
    public void Past_the_exact_limit_the_rest_is_estimated_at_the_rate_of_the_part_counted()
    {
        // " hello" is one token: 300,000 of them are 1.8 million characters, beyond the exact limit.
        var text = string.Concat(Enumerable.Repeat(" hello", 300_000));
        Assert.True(text.Length > BoundedTokenCount.ExactCharsLimit);

        Assert.InRange(PromptTokenCounter.Count(text, "gpt-4o"), 299_900, 300_100);
    }

    [Fact]
    public void A_cancelled_count_stops_and_is_not_kept()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var text = string.Concat(Enumerable.Repeat("Hello, world! ", 100));

        Assert.Throws<OperationCanceledException>(() => PromptTokenCounter.Count(text, "gpt-4o", cancelled.Token));
        var request = Parse($$"""{"model":"gpt-4o","messages":[{"role":"user","content":"{{text}}"}]}""");
        Assert.Throws<OperationCanceledException>(() => PromptTokenCounter.CountPrompt(request, cancelled.Token));
        Assert.Null(request.PromptTokens);
        Assert.Equal(3 + 3 + PromptTokenCounter.Count(text, "gpt-4o"), PromptTokenCounter.CountPrompt(request));
    }

    [Fact]
    public void A_usage_count_that_is_cancelled_falls_back_to_four_characters_a_token()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var answer = new string('x', 1000);
        var request = Parse("""{"model":"gpt-4o","messages":[{"role":"user","content":"Hello, world!"}]}""");

        var usage = CostAccountant.EstimateUsage(request, answer, "gpt-4o", cancelled.Token);

        Assert.Equal(250, usage.CompletionTokens);
        Assert.Equal((request.PromptCharacters + 3) / 4, usage.PromptTokens);
        Assert.Equal(PromptTokenCounter.Count(answer, "gpt-4o"), CostAccountant.EstimateUsage(request, answer, "gpt-4o").CompletionTokens);
    }
}
