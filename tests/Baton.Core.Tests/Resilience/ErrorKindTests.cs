using Baton.Errors;
using Baton.Providers;
using Baton.Resilience;

namespace Baton.Core.Tests.Resilience;

/// <summary>The error taxonomy and the retry/hand-over/fail classification, from upstream statuses and messages.</summary>
public sealed class ErrorKindTests
{
    private static BatonException Upstream(int status, string message = "failure") =>
        UpstreamErrors.FromResponse("p", status, System.Text.Encoding.UTF8.GetBytes($"{{\"error\":{{\"message\":\"{message}\"}}}}"), null, new SecretRedactor());

    [Theory]
    [InlineData(429, "slow down", BatonErrorKind.RateLimited, FailureAction.Retry)]
    [InlineData(401, "bad key", BatonErrorKind.Authentication, FailureAction.HandOver)]
    [InlineData(403, "forbidden", BatonErrorKind.Authentication, FailureAction.HandOver)]
    [InlineData(400, "temperature must be a number", BatonErrorKind.InvalidRequest, FailureAction.Fail)]
    [InlineData(404, "no such model", BatonErrorKind.InvalidRequest, FailureAction.Fail)]
    [InlineData(422, "unprocessable", BatonErrorKind.InvalidRequest, FailureAction.Fail)]
    [InlineData(400, "This model's maximum context length is 8192 tokens", BatonErrorKind.ContextLengthExceeded, FailureAction.ContextWindowExceeded)]
    [InlineData(400, "prompt is too long: 210000 tokens > 200000 maximum", BatonErrorKind.ContextLengthExceeded, FailureAction.ContextWindowExceeded)]
    [InlineData(400, "The response was filtered due to the prompt triggering Azure OpenAI's content management policy", BatonErrorKind.ContentFiltered, FailureAction.Fail)]
    [InlineData(408, "timeout", BatonErrorKind.Timeout, FailureAction.Retry)]
    [InlineData(504, "gateway timeout", BatonErrorKind.Timeout, FailureAction.Retry)]
    [InlineData(500, "oops", BatonErrorKind.ProviderError, FailureAction.Retry)]
    [InlineData(502, "bad gateway", BatonErrorKind.ProviderError, FailureAction.Retry)]
    [InlineData(503, "overloaded", BatonErrorKind.ProviderError, FailureAction.Retry)]
    [InlineData(529, "overloaded_error", BatonErrorKind.ProviderError, FailureAction.Retry)]
    public void Upstream_failures_have_a_kind_and_an_action(int status, string message, BatonErrorKind kind, FailureAction action)
    {
        var error = Upstream(status, message);

        Assert.Equal(kind, error.Kind);
        Assert.Equal(action, FailureClassifier.Classify(error));
    }

    [Fact]
    public void Baton_s_own_failures_have_kinds_too()
    {
        Assert.Equal(BatonErrorKind.Timeout, UpstreamErrors.TimedOut("p", TimeSpan.FromSeconds(3)).Kind);
        Assert.Equal(BatonErrorKind.ProviderUnavailable, UpstreamErrors.Unreachable("p", new IOException("reset"), new SecretRedactor()).Kind);
        Assert.Equal(BatonErrorKind.ProviderError, UpstreamErrors.StreamInterrupted("p", "cut").Kind);
        Assert.Equal(FailureAction.Retry, FailureClassifier.Classify(UpstreamErrors.StreamInterrupted("p", "cut")));
        Assert.Equal(FailureAction.Retry, FailureClassifier.Classify(UpstreamErrors.Malformed("p", "a response")));
        Assert.Equal(BatonErrorKind.InvalidRequest, BatonException.InvalidRequest("bad", "messages").Kind);
    }
}
