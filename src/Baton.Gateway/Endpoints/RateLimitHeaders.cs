using System.Globalization;
using Baton.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// The answering deployment's remaining budget in OpenAI's <c>x-ratelimit-*</c> response headers, so that
/// clients which pace themselves on OpenAI's headers pace themselves on Baton's limits too.
/// </summary>
internal static class RateLimitHeaders
{
    public const string RemainingRequests = "x-ratelimit-remaining-requests";
    public const string RemainingTokens = "x-ratelimit-remaining-tokens";
    public const string ResetRequests = "x-ratelimit-reset-requests";
    public const string ResetTokens = "x-ratelimit-reset-tokens";

    /// <summary>Writes the headers for each limit the deployment has; nothing when it has none.</summary>
    public static void Write(IHeaderDictionary headers, RateLimitSnapshot? limit, DateTimeOffset now)
    {
        if (limit is null)
        {
            return;
        }
        if (limit.RemainingRequests is { } requests)
        {
            headers[RemainingRequests] = requests.ToString(CultureInfo.InvariantCulture);
        }
        if (limit.RequestsResetAt is { } requestsReset)
        {
            headers[ResetRequests] = UpstreamRateLimit.FormatDuration(requestsReset - now);
        }
        if (limit.RemainingTokens is { } tokens)
        {
            headers[RemainingTokens] = tokens.ToString(CultureInfo.InvariantCulture);
        }
        if (limit.TokensResetAt is { } tokensReset)
        {
            headers[ResetTokens] = UpstreamRateLimit.FormatDuration(tokensReset - now);
        }
    }
}
