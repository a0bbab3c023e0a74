using System.Text.RegularExpressions;
using Baton.Accounting.Catalog;

namespace Baton.Core.Tests.Accounting;

public sealed class CatalogRegexTests
{
    [Theory]
    [InlineData(@"^grok-4\.3-\d{8}$", "grok-4.3-20260101", true)]
    [InlineData(@"(?:mi|code|dev|magi|mini)stral", "codestral-latest", true)]
    [InlineData(@"\A(?:https://(.*\.)?googleapis\.com)", "https://europe-west1-aiplatform.googleapis.com/v1", true)]
    [InlineData(@"\A(?:https://api\.openai\.com)", "https://api.openai.com.evil.test", true)]
    [InlineData(@"\A(?:https://api\.openai\.com)", "http://api.openai.com", false)]
    public void Catalog_patterns_run_without_backtracking_or_a_wall_clock_timeout(string pattern, string text, bool matches)
    {
        var regex = CatalogRegex.Create(pattern);

        Assert.True(regex.Options.HasFlag(RegexOptions.NonBacktracking));
        Assert.Equal(Regex.InfiniteMatchTimeout, regex.MatchTimeout);
        Assert.Equal(matches, regex.IsMatch(text));
    }

    [Fact]
    public void A_pattern_that_would_backtrack_catastrophically_is_answered_in_linear_time()
    {
        // With backtracking, this input takes 2^40 steps; the linear engine answers at once, so no timeout is needed.
        var regex = CatalogRegex.Create("^(a+)+$");

        Assert.DoesNotMatch(regex, new string('a', 40) + "!");
    }

    [Fact]
    public void A_pattern_the_linear_engine_cannot_run_falls_back_to_backtracking_with_a_timeout()
    {
        var regex = CatalogRegex.Create(@"^gpt-4(?!-mini)");

        Assert.False(regex.Options.HasFlag(RegexOptions.NonBacktracking));
        Assert.NotEqual(Regex.InfiniteMatchTimeout, regex.MatchTimeout);
        Assert.Matches(regex, "gpt-4o");
        Assert.DoesNotMatch(regex, "gpt-4-mini");
    }
}
