using System.Text.Json;
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

    [Theory]
    [InlineData(@"https://api\.openai\.com", "https://api.openai.com")]
    [InlineData(@"https?://api\.x\.ai", "http")]
    [InlineData(@"https://api\.minimax(i)?\.(?:com|io)", "https://api.minimax")]
    [InlineData(@"https://bedrock-runtime\.[a-z0-9-]+\.amazonaws\.com(/|$)", "https://bedrock-runtime.")]
    [InlineData(@"(https?://)?([^.]*\.)?(?:openai\.azure\.com|azure-api\.net)", "")]
    [InlineData(@"gemini-3\.5-flash-\d", "gemini-3.5-flash-")]
    [InlineData(@"ab{2}c", "a")]
    [InlineData(@"ab*", "a")]
    [InlineData(@"x[|]y", "x")]
    [InlineData(@"x\|y", "x|y")]
    [InlineData(@"api|x", "")]
    [InlineData(@"(?i)api", "")]
    public void A_pattern_anchored_at_the_start_has_the_literal_prefix_every_match_begins_with(string pattern, string prefix)
    {
        Assert.Equal(prefix, CatalogRegex.LiteralPrefix(pattern));
    }

    [Theory]
    [InlineData("https://api.openai.com/v1")]
    [InlineData("https://API.openai.com/v1")]
    [InlineData("http://127.0.0.1:8080/v1")]
    [InlineData("https://my-resource.openai.azure.com/openai")]
    [InlineData("my-resource.cognitiveservices.azure.com")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta")]
    [InlineData("https://router.huggingface.co/groq/v1")]
    [InlineData("https://api.minimaxi.com/v1")]
    [InlineData("https://openrouter.ai/api/v1")]
    [InlineData("https://api.openrouter.ai/api/v1")]
    [InlineData("https://bedrock-runtime.us-east-1.amazonaws.com")]
    [InlineData("https://api.moonshot.cn/v1")]
    [InlineData("")]
    public void Every_built_in_url_pattern_matches_exactly_as_its_regex_does(string url)
    {
        foreach (var pattern in BuiltInPatterns("api_pattern"))
        {
            Assert.True(Regex.IsMatch(url, @"\A(?:" + pattern + ")") == CatalogPattern.AtStart(pattern).IsMatch(url), $"{pattern} on '{url}'");
        }
    }

    [Theory]
    [InlineData("grok-4.3-20260101")]
    [InlineData("x-ai/grok-4.5-20260101")]
    [InlineData("gemini-3.5-flash-001")]
    [InlineData("o3-mini")]
    [InlineData("codestral-latest")]
    [InlineData("gpt-4o")]
    public void Every_built_in_model_pattern_matches_exactly_as_its_regex_does(string model)
    {
        foreach (var pattern in BuiltInPatterns("regex"))
        {
            Assert.True(Regex.IsMatch(model, pattern) == CatalogPattern.Search(pattern).IsMatch(model), $"{pattern} on '{model}'");
        }
    }

    [Fact]
    public void A_lookup_for_a_provider_the_catalog_does_not_list_builds_only_the_url_patterns_without_a_literal_start()
    {
        // Each non-backtracking regex built costs about a megabyte of tables; trying every provider's URL pattern on a
        // local server's URL used to build all 34 of them at start.
        var catalog = PriceCatalog.Load(BuiltInCatalog(), "built-in");

        Assert.NotNull(catalog.Find("gpt-4o", "openai", "http://127.0.0.1:8080/v1"));

        Assert.Equal(["azure"], catalog.Providers.Where(p => p.ApiPattern?.IsBuilt == true).Select(p => p.Id));
    }

    private static Stream BuiltInCatalog() =>
        typeof(PriceCatalog).Assembly.GetManifestResourceStream("Baton.Accounting.Catalog.GenAiPrices.data.json")!;

    private static List<string> BuiltInPatterns(string property)
    {
        using var document = JsonDocument.Parse(BuiltInCatalog());
        var patterns = new List<string>();
        Collect(document.RootElement);
        Assert.NotEmpty(patterns);
        return patterns;

        void Collect(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var member in element.EnumerateObject())
                {
                    if (member.Name == property && member.Value.ValueKind == JsonValueKind.String)
                    {
                        patterns.Add(member.Value.GetString()!);
                    }
                    Collect(member.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item);
                }
            }
        }
    }
}
