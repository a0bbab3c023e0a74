using System.Net;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;
using Baton.RateLimiting;

namespace Baton.Core.Tests.RateLimiting;

/// <summary>Reading OpenAI's <c>x-ratelimit-*</c> headers, and writing the same format back.</summary>
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
}
