using System.Text;
using System.Text.Json;
using Baton.Accounting;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Providers;
using Baton.Providers.Anthropic;
using Baton.Providers.Gemini;
using Baton.Providers.OpenAi;

namespace Baton.Core.Tests.Accounting;

/// <summary>
/// Golden tests: providers' published usage examples, read by Baton's own usage parsers, priced to the exact
/// decimal. Cached input is billed at the cached price, reasoning as output.
/// </summary>
public sealed class CostCalculatorTests
{
    private static TokenUsage OpenAiUsage(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        return OpenAiUsageJson.Read(ref reader);
    }

    // 12:00 UTC, in DeepSeek's standard hours.
    private static readonly PriceTable Prices = new(time: new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero)));

    private static ModelPrice Price(string upstreamModel) => Prices.For("p/" + upstreamModel, upstreamModel)!;

    [Fact]
    public void OpenAi_prompt_caching_example_bills_cached_tokens_at_the_cached_price()
    {
        // OpenAI's prompt-caching guide: 2006 prompt tokens of which 1920 cached, 300 completion.
        var usage = OpenAiUsage("""
            {"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,
             "prompt_tokens_details":{"cached_tokens":1920},
             "completion_tokens_details":{"reasoning_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}
            """);
        // gpt-4o: $2.50 input, $1.25 cached, $10 output: 86 * 2.50 + 1920 * 1.25 + 300 * 10 = 5615 per million.
        Assert.Equal(0.005615m, CostCalculator.Cost(usage, Price("gpt-4o")));
    }

    [Fact]
    public void OpenAi_reasoning_example_bills_reasoning_as_output()
    {
        // OpenAI's reasoning guide: 75 prompt tokens, 1186 completion tokens of which 1024 reasoning.
        var usage = OpenAiUsage("""
            {"prompt_tokens":75,"completion_tokens":1186,"total_tokens":1261,
             "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":1024}}
            """);
        Assert.Equal(1024, usage.ReasoningTokens);
        // o4-mini: $1.10 input, $4.40 output; reasoning is inside completion_tokens, so it is not added twice.
        Assert.Equal(0.0053009m, CostCalculator.Cost(usage, Price("o4-mini")));
    }

    [Fact]
    public void Anthropic_cache_write_then_cache_read_example()
    {
        // Anthropic's prompt-caching guide (the long book in the system prompt): first call writes the cache...
        var write = AnthropicUsage.Read(JsonDocument.Parse(
            """{"input_tokens":21,"cache_creation_input_tokens":188086,"cache_read_input_tokens":0,"output_tokens":393}""").RootElement).ToTokenUsage();
        // ...the next reads it.
        var read = AnthropicUsage.Read(JsonDocument.Parse(
            """{"input_tokens":21,"cache_creation_input_tokens":0,"cache_read_input_tokens":188086,"output_tokens":393}""").RootElement).ToTokenUsage();
        var sonnet = Price("claude-sonnet-4-20250514");

        // Cache writes at 1.25 times input ($3.75): 21 * 3 + 188086 * 3.75 + 393 * 15 = 711280.5 per million.
        Assert.Equal(188086, write.CacheWritePromptTokens);
        Assert.Equal(0.7112805m, CostCalculator.Cost(write, sonnet));
        // Cache reads at $0.30: 21 * 3 + 188086 * 0.30 + 393 * 15 = 62383.8 per million.
        Assert.Equal(0.0623838m, CostCalculator.Cost(read, sonnet));
    }

    [Fact]
    public void Gemini_thoughts_are_billed_as_output_and_cached_content_at_the_cached_price()
    {
        var response = JsonDocument.Parse(ProviderFixtures.Text("gemini", "generate-response-basic.json"));
        var usage = GeminiUsage.Read(response.RootElement.GetProperty("usageMetadata"));
        Assert.Equal(TokenUsage.Of(2104, 58 + 124, cached: 1536, reasoning: 124), usage);
        // gemini-2.5-flash: 568 * 0.30 + 1536 * 0.03 + 182 * 2.50 = 671.48 per million.
        Assert.Equal(0.00067148m, CostCalculator.Cost(usage, Price("gemini-2.5-flash")));
    }

    [Fact]
    public void Seed_002_summary_totals_are_exact()
    {
        // Claude Opus 4.5 at its published $5/$25 (seed 002's table still says $15/$75): 1000 in, 500 out = $0.0175;
        // DeepSeek-V3 at $0.27/$1.10 in DeepSeek's standard hours: 2000 in, 600 out.
        Assert.Equal(0.0175m, CostCalculator.Cost(TokenUsage.Of(1000, 500), Price("anthropic/claude-opus-4-5-20250514")));
        Assert.Equal(0.0012m, CostCalculator.Cost(TokenUsage.Of(2000, 600), Price("deepseek/deepseek-chat")));
        // Qwen 2.5-72B through OpenRouter at $0.12/$0.39: 421 in, 134 out = 102.78 per million.
        Assert.Equal(0.00010278m, CostCalculator.Cost(TokenUsage.Of(421, 134), Price("qwen/qwen-2.5-72b-instruct")));
    }

    [Fact]
    public void Reasoning_reported_apart_from_the_completion_is_still_billed()
    {
        var usage = new TokenUsage(PromptTokens: 10, CompletionTokens: 0, TotalTokens: 110, ReasoningTokens: 100);
        Assert.Equal(0.0004m + 0.000011m, CostCalculator.Cost(usage, ModelPrice.Of(1.10m, 4m)));
    }

    [Theory]
    // DeepSeek reports its prompt-cache hits outside prompt_tokens_details.
    [InlineData("""{"prompt_tokens":5000,"completion_tokens":800,"total_tokens":5800,"prompt_cache_hit_tokens":3000,"prompt_cache_miss_tokens":2000}""", 3000, 0)]
    // xAI's own field.
    [InlineData("""{"prompt_tokens":5000,"completion_tokens":800,"total_tokens":5800,"cached_prompt_text_tokens":3000}""", 3000, 0)]
    // OpenAI and OpenRouter report cache writes beside cache reads.
    [InlineData("""{"prompt_tokens":5000,"completion_tokens":800,"total_tokens":5800,"prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":2500}}""", 1000, 2500)]
    public void Usage_fields_of_openai_compatible_providers_are_read(string json, int cached, int cacheWrite)
    {
        var usage = OpenAiUsage(json);
        Assert.Equal((5000, 800, cached, cacheWrite), (usage.PromptTokens, usage.CompletionTokens, usage.CachedPromptTokens, usage.CacheWritePromptTokens));
    }

    [Fact]
    public void A_deepseek_answer_bills_its_cache_hits_at_the_cache_price()
    {
        // deepseek-chat in standard hours: $0.27 input, $0.07 cache hit, $1.10 output. Without the hit field the
        // same answer would cost 5000 * 0.27 + 800 * 1.10 = 2230 per million, 37 % more.
        var usage = OpenAiUsage("""{"prompt_tokens":5000,"completion_tokens":800,"total_tokens":5800,"prompt_cache_hit_tokens":3000,"prompt_cache_miss_tokens":2000}""");
        Assert.Equal(0.00163m, CostCalculator.Cost(usage, Prices.For("deepseek/deepseek-chat", "deepseek-chat", null, ProviderTypes.OpenAi, "https://api.deepseek.com/v1")!));
    }
}
