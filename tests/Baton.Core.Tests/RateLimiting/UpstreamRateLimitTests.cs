using System.Net;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;
using Baton.Core.Tests.Providers.Anthropic;
using Baton.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.RateLimiting;

/// <summary>Reading OpenAI's <c>x-ratelimit-*</c> and Anthropic's <c>anthropic-ratelimit-*</c> headers, and writing OpenAI's format back.</summary>
public sealed class UpstreamRateLimitTests
{
    [Theory]
    [InlineData("1s", 1000)]
    [InlineData("6m0s", 360_000)]
    [InlineData("20ms", 20)]
    [InlineData("1m30.5s", 90_500)]
    [InlineData("1h2m", 3_720_000)]
    [InlineData("7", 7000)]
    [InlineData("0.25", 250)]
    public void Reset_durations_in_openai_format_or_plain_seconds(string text, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), UpstreamRateLimit.ParseDuration(text));

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("5x")]
    [InlineData("-3")]
    public void Unreadable_resets_are_ignored(string text) => Assert.Null(UpstreamRateLimit.ParseDuration(text));

    [Theory]
    [InlineData(20, "20ms")]
    [InlineData(6000, "6s")]
    [InlineData(90_500, "1m30.5s")]
    [InlineData(1250, "1.25s")]
    [InlineData(1050, "1.05s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(61_230, "1m1.23s")]
    [InlineData(7_259_999, "120m59.999s")]
    public void Durations_are_written_the_way_openai_writes_them(double milliseconds, string text)
    {
        Assert.Equal(text, UpstreamRateLimit.FormatDuration(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), UpstreamRateLimit.ParseDuration(text));
    }

    [Fact]
    public async Task The_provider_reads_the_headers_of_an_answer()
    {
        var handler = new CapturingHandler(HttpStatusCode.OK, System.Text.Encoding.UTF8.GetBytes(
            """{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"""));
        handler.ResponseHeaders["x-ratelimit-remaining-requests"] = "0";
        handler.ResponseHeaders["x-ratelimit-remaining-tokens"] = "149984";
        handler.ResponseHeaders["x-ratelimit-reset-requests"] = "6m0s";
        handler.ResponseHeaders["x-ratelimit-reset-tokens"] = "6ms";
        var provider = handler.CreateProvider("openai", "https://api.example.test/v1");

        using var completion = await provider.CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);

        Assert.Equal(new UpstreamRateLimit(0, 149984, TimeSpan.FromMinutes(6), TimeSpan.FromMilliseconds(6)), completion.UpstreamRateLimit);
        Assert.Equal(TimeSpan.FromMinutes(6), completion.UpstreamRateLimit!.ExhaustedFor);
    }

    [Fact]
    public async Task The_provider_reads_the_headers_of_a_429()
    {
        var handler = new CapturingHandler(HttpStatusCode.TooManyRequests, """{"error":{"message":"slow down"}}"""u8.ToArray());
        handler.ResponseHeaders["x-ratelimit-remaining-requests"] = "0";
        handler.ResponseHeaders["x-ratelimit-reset-requests"] = "17";
        var provider = handler.CreateProvider("openai", "https://api.example.test/v1");

        var error = await Assert.ThrowsAsync<BatonException>(() => provider.CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None));

        Assert.Equal(429, error.UpstreamStatus);
        Assert.Equal(TimeSpan.FromSeconds(17), error.UpstreamRateLimit?.ResetRequests);
    }

    [Fact]
    public async Task An_answer_without_the_headers_has_none()
    {
        var handler = new CapturingHandler(HttpStatusCode.OK, System.Text.Encoding.UTF8.GetBytes(
            """{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"""));
        ProviderCompletion completion = await handler.CreateProvider("openai", "https://api.example.test/v1")
            .CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);
        using (completion)
        {
            Assert.Null(completion.UpstreamRateLimit);
        }
    }

    private static readonly DateTimeOffset Now = new(2025, 8, 21, 12, 40, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2025-08-21T12:40:30Z", 30_000)]
    [InlineData("2025-08-21T12:40:30.5Z", 30_500)]
    [InlineData("2025-08-21T14:41:00+02:00", 60_000)]
    [InlineData("2025-08-21T12:39:00Z", 0)]
    [InlineData("6m0s", 360_000)]
    public void Resets_are_durations_or_the_rfc_3339_time_anthropic_sends(string text, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), UpstreamRateLimit.ParseReset(text, new FakeTimeProvider(Now)));

    [Theory]
    [InlineData("")]
    [InlineData("tomorrow")]
    [InlineData("2025-08-21")]
    public void Unreadable_reset_times_are_ignored(string text) => Assert.Null(UpstreamRateLimit.ParseReset(text, new FakeTimeProvider(Now)));

    [Fact]
    public async Task The_anthropic_provider_reads_anthropics_headers_of_an_answer()
    {
        var limit = await AnthropicAnswerLimitAsync(
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", "2025-08-21T12:40:20Z"),
            ("anthropic-ratelimit-tokens-remaining", "96000"),
            ("anthropic-ratelimit-tokens-reset", "2025-08-21T12:40:01Z"),
            ("anthropic-ratelimit-input-tokens-remaining", "0"));

        // The tokens-* headers already describe the tightest token limit, so the input one is not consulted.
        Assert.Equal(new UpstreamRateLimit(0, 96000, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1)), limit);
        Assert.Equal(TimeSpan.FromSeconds(20), limit!.ExhaustedFor);
    }

    [Fact]
    public async Task Without_anthropics_tokens_headers_the_tighter_of_its_input_and_output_limits_counts()
    {
        var limit = await AnthropicAnswerLimitAsync(
            ("anthropic-ratelimit-input-tokens-remaining", "80000"),
            ("anthropic-ratelimit-input-tokens-reset", "2025-08-21T12:40:05Z"),
            ("anthropic-ratelimit-output-tokens-remaining", "0"),
            ("anthropic-ratelimit-output-tokens-reset", "2025-08-21T12:40:12Z"));

        Assert.Equal(new UpstreamRateLimit(null, 0, null, TimeSpan.FromSeconds(12)), limit);
        Assert.Equal(TimeSpan.FromSeconds(12), limit!.ExhaustedFor);
    }

    [Fact]
    public async Task An_anthropic_429_carries_its_retry_after_and_its_limits()
    {
        var handler = new CapturingHandler(HttpStatusCode.TooManyRequests,
            """{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"""u8.ToArray());
        handler.ResponseHeaders["retry-after"] = "9";
        handler.ResponseHeaders["anthropic-ratelimit-tokens-remaining"] = "0";
        handler.ResponseHeaders["anthropic-ratelimit-tokens-reset"] = "2025-08-21T12:40:40Z";
        var provider = handler.CreateProvider("anthropic", "https://api.example.test/v1", time: new FakeTimeProvider(Now));

        var error = await Assert.ThrowsAsync<BatonException>(() => provider.CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None));

        Assert.Equal(429, error.UpstreamStatus);
        Assert.Equal(TimeSpan.FromSeconds(9), error.RetryAfter);
        Assert.Equal(new UpstreamRateLimit(null, 0, null, TimeSpan.FromSeconds(40)), error.UpstreamRateLimit);
    }

    private static async Task<UpstreamRateLimit?> AnthropicAnswerLimitAsync(params (string Name, string Value)[] headers)
    {
        var handler = new CapturingHandler(HttpStatusCode.OK, AnthropicFixtures.Read("messages-response.json"));
        foreach (var (name, value) in headers)
        {
            handler.ResponseHeaders[name] = value;
        }
        var provider = handler.CreateProvider("anthropic", "https://api.example.test/v1", time: new FakeTimeProvider(Now));
        using var completion = await provider.CompleteAsync(TestProviders.Request(TestProviders.Simple()), CancellationToken.None);
        return completion.UpstreamRateLimit;
    }
}
