using System.Globalization;
using Baton.Accounting;
using Baton.Accounting.Catalog;
using Baton.Configuration;
using Baton.Providers;
using Microsoft.Extensions.Configuration;

namespace Baton.Core.Tests.Accounting;

public sealed class PriceCatalogTests
{
    /// <summary>
    /// Each expected price was computed by genai-prices' own <c>calc_price</c> (its Python package at the commit of
    /// the shipped snapshot) for the same provider URL, model, usage and request time: prompt tokens in all,
    /// of which read from and written to the provider's cache, and output tokens.
    /// </summary>
    [Theory]
    [InlineData("https://api.anthropic.com/v1", "claude-opus-4-5", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "anthropic", "claude-opus-4-5", "0.0175")]
    [InlineData("https://api.anthropic.com/v1", "claude-opus-4-5-20251101", 30000, 20000, 5000, 1200, "2026-11-01T12:00:00Z", "anthropic", "claude-opus-4-5", "0.09625")]
    [InlineData("https://api.anthropic.com/v1", "claude-sonnet-4-5", 250000, 100000, 50000, 2000, "2026-11-01T12:00:00Z", "anthropic", "claude-sonnet-4-5", "1.08")]
    [InlineData("https://api.anthropic.com/v1", "claude-sonnet-4-5", 150000, 100000, 20000, 2000, "2026-11-01T12:00:00Z", "anthropic", "claude-sonnet-4-5", "0.225")]
    [InlineData("https://api.anthropic.com/v1", "claude-sonnet-5", 10000, 0, 0, 1000, "2026-08-31T23:00:00Z", "anthropic", "claude-sonnet-5", "0.03")]
    [InlineData("https://api.anthropic.com/v1", "claude-sonnet-5", 10000, 0, 0, 1000, "2026-09-01T00:00:00Z", "anthropic", "claude-sonnet-5", "0.045")]
    [InlineData("https://api.anthropic.com/v1", "claude-3-5-haiku-latest", 4000, 1000, 0, 300, "2026-11-01T12:00:00Z", "anthropic", "claude-3-5-haiku-latest", "0.00368")]
    [InlineData("https://api.openai.com/v1", "o1-pro", 1000, 0, 0, 2000, "2026-11-01T12:00:00Z", "openai", "o1-pro", "1.35")]
    [InlineData("https://api.openai.com/v1", "o1", 1000, 0, 0, 2000, "2026-11-01T12:00:00Z", "openai", "o1", "0.135")]
    [InlineData("https://api.openai.com/v1", "o3-pro", 1000, 0, 0, 2000, "2026-11-01T12:00:00Z", "openai", "o3-pro", "0.18")]
    [InlineData("https://api.openai.com/v1", "o3", 1000, 500, 0, 2000, "2026-11-01T12:00:00Z", "openai", "o3", "0.01725")]
    [InlineData("https://api.openai.com/v1", "gpt-5-pro", 1000, 0, 0, 2000, "2026-11-01T12:00:00Z", "openai", "gpt-5-pro", "0.255")]
    [InlineData("https://api.openai.com/v1", "gpt-5", 2006, 1920, 0, 300, "2026-11-01T12:00:00Z", "openai", "gpt-5", "0.0033475")]
    [InlineData("https://api.openai.com/v1", "gpt-4o-2024-05-13", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "openai", "gpt-4o", "0.0075")]
    [InlineData("https://api.openai.com/v1", "gpt-4o", 2006, 1920, 0, 300, "2026-11-01T12:00:00Z", "openai", "gpt-4o", "0.005615")]
    [InlineData("https://api.openai.com/v1", "gpt-4o-mini-2024-07-18", 2006, 1920, 0, 300, "2026-11-01T12:00:00Z", "openai", "gpt-4o-mini", "0.0003369")]
    [InlineData("https://api.openai.com/v1", "gpt-5.4", 300000, 100000, 0, 1000, "2026-11-01T12:00:00Z", "openai", "gpt-5.4", "1.0725")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta", "gemini-2.5-flash-lite", 2104, 1536, 0, 182, "2026-11-01T12:00:00Z", "google", "gemini-2.5-flash-lite", "0.00014496")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta", "gemini-2.5-flash", 2104, 1536, 0, 182, "2026-11-01T12:00:00Z", "google", "gemini-2.5-flash", "0.00067148")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta", "gemini-2.5-pro", 250000, 0, 0, 1000, "2026-11-01T12:00:00Z", "google", "gemini-2.5-pro", "0.64")]
    [InlineData("https://api.deepseek.com/v1", "deepseek-chat", 5000, 3000, 0, 800, "2026-11-01T12:00:00Z", "deepseek", "deepseek-chat", "0.00163")]
    [InlineData("https://api.deepseek.com/v1", "deepseek-chat", 5000, 3000, 0, 800, "2026-11-01T20:00:00Z", "deepseek", "deepseek-chat", "0.000815")]
    [InlineData("https://api.deepseek.com/v1", "deepseek-reasoner", 5000, 0, 0, 4000, "2026-11-01T12:00:00Z", "deepseek", "deepseek-reasoner", "0.01151")]
    [InlineData("https://api.mistral.ai/v1", "mistral-large-latest", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "mistral", "mistral-large", "0.005")]
    [InlineData("https://api.cohere.com/compatibility/v1", "command-r-plus", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "cohere", "command-r-plus", "0.0075")]
    [InlineData("https://openrouter.ai/api/v1", "anthropic/claude-sonnet-4.5", 250000, 100000, 50000, 2000, "2026-11-01T12:00:00Z", "openrouter", "anthropic/claude-sonnet-4.5", "1.08")]
    [InlineData("https://openrouter.ai/api/v1", "openai/gpt-4o-2024-05-13", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "openrouter", "openai/gpt-4o-2024-05-13", "0.0125")]
    [InlineData("https://openrouter.ai/api/v1", "deepseek/deepseek-chat", 2000, 0, 0, 600, "2026-11-01T12:00:00Z", "openrouter", "deepseek/deepseek-chat", "0.001294")]
    [InlineData("https://openrouter.ai/api/v1", "meta-llama/llama-3.3-70b-instruct:free", 2000, 0, 0, 600, "2026-11-01T12:00:00Z", "openrouter", "meta-llama/llama-3.3-70b-instruct:free", "0")]
    [InlineData("https://api.perplexity.ai", "sonar", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "perplexity", "sonar", "0.0135")]
    [InlineData("https://api.x.ai/v1", "grok-4.3-20260101", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "x-ai", "grok-4.3", "0.0025")]
    [InlineData("https://myresource.openai.azure.com/openai", "gpt-4o", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "azure", "gpt-4o", "0.0075")]
    [InlineData("https://api.groq.com/openai/v1", "llama-3.3-70b-versatile", 1000, 0, 0, 500, "2026-11-01T12:00:00Z", "groq", "llama-3.3-70b-versatile", "0.000985")]
    public void Prices_every_answer_as_genai_prices_does(string baseUrl, string model, int prompt, int cacheRead, int cacheWrite, int output,
        string at, string provider, string catalogModel, string expected)
    {
        var time = DateTimeOffset.Parse(at, CultureInfo.InvariantCulture);
        var lookup = PriceTable.BuiltIn.Lookup("p/" + model, model, null, ProviderTypes.OpenAi, baseUrl, time);

        Assert.Equal(provider, lookup.Match!.Provider.Id);
        Assert.Equal(catalogModel, lookup.Match.Model.Id);
        var usage = TokenUsage.Of(prompt, output, cached: cacheRead, cacheWrite: cacheWrite);
        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), CostCalculator.Cost(usage, lookup.Price!));
    }

    [Theory]
    // A provider the catalog does not know (the simulator, a local server) serving a known model: found by name.
    [InlineData(ProviderTypes.Simulator, "http://127.0.0.1:5000/v1", "gpt-4o-mini", "openai", "gpt-4o-mini")]
    [InlineData(ProviderTypes.Simulator, "http://127.0.0.1:5000/v1", "claude-opus-4-5-20251101", "anthropic", "claude-opus-4-5")]
    // Seed 002's OpenRouter-style names on a provider that is not OpenRouter: the vendor prefix names the provider.
    [InlineData(ProviderTypes.Simulator, "http://127.0.0.1:5000/v1", "anthropic/claude-opus-4-5-20250514", "anthropic", "claude-opus-4-5")]
    [InlineData(ProviderTypes.Ollama, "http://127.0.0.1:11434", "mistralai/mistral-large-latest", "mistral", "mistral-large")]
    // The provider type decides when the base URL is not a known one (a proxy in front of the API).
    [InlineData(ProviderTypes.Anthropic, "https://llm-proxy.example.com", "claude-haiku-4-5", "anthropic", "claude-haiku-4-5")]
    [InlineData(ProviderTypes.Gemini, "https://llm-proxy.example.com", "gemini-2.5-flash-lite", "google", "gemini-2.5-flash-lite")]
    // A model listed under another provider than the one the URL names falls through to that provider's entry.
    [InlineData(ProviderTypes.OpenAi, "https://openrouter.ai/api/v1", "anthropic/claude-opus-4-5-20251101", "anthropic", "claude-opus-4-5")]
    // A "vendor/model" id that no vendor lists is OpenRouter's.
    [InlineData(ProviderTypes.Simulator, "http://127.0.0.1:5000/v1", "qwen/qwen-2.5-72b-instruct", "openrouter", "qwen/qwen-2.5-72b-instruct")]
    public void Finds_the_provider_by_url_then_type_then_model_name(string type, string baseUrl, string model, string provider, string catalogModel)
    {
        var match = PriceCatalog.Embedded.Find(model, type, baseUrl);

        Assert.Equal(provider, match?.Provider.Id);
        Assert.Equal(catalogModel, match?.Model.Id);
    }

    [Fact]
    public void OpenRouter_free_models_cost_nothing_listed_or_not_and_unknown_models_are_unpriced()
    {
        var at = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(0m, CostCalculator.Cost(TokenUsage.Of(1000, 1000),
            PriceTable.BuiltIn.Lookup("openrouter/deepseek/deepseek-r1:free", "deepseek/deepseek-r1:free", null, ProviderTypes.OpenAi, "https://openrouter.ai/api/v1", at).Price!));
        Assert.Equal(ModelPrice.Free, PriceTable.BuiltIn.Lookup("sim/vendor/unlisted-model:free", "vendor/unlisted-model:free", null, ProviderTypes.Simulator, null, at).Price);
        Assert.Null(PriceTable.BuiltIn.Lookup("local/my-model", "my-model", null, ProviderTypes.Ollama, "http://127.0.0.1:11434", at).Price);
    }

    [Fact]
    public void Tiers_bill_the_whole_request_at_the_tier_its_prompt_falls_into()
    {
        var sonnet = PriceCatalog.Embedded.Find("claude-sonnet-4-5", ProviderTypes.Anthropic)!.Model.Prices.At(DateTimeOffset.UnixEpoch);
        // At exactly 200,000 prompt tokens the base price applies; one more and every token is billed at the long-context price.
        Assert.Equal(0.6m, CostCalculator.Cost(TokenUsage.Of(200_000, 0), sonnet));
        Assert.Equal(1.200006m, CostCalculator.Cost(TokenUsage.Of(200_001, 0), sonnet));
    }

    [Fact]
    public void A_newer_catalog_file_replaces_the_snapshot_and_a_broken_one_is_refused()
    {
        using var db = new TempDatabase();
        var path = Path.Combine(Path.GetDirectoryName(db.Path)!, "data.json");
        File.WriteAllText(path, """
            [{"id":"acme","name":"Acme","api_pattern":"https://api\\.acme\\.test","model_match":{"starts_with":"acme-"},
              "models":[{"id":"acme-1","match":{"or":[{"equals":"acme-1"},{"regex":"^acme-1-\\d{4}$"}]},
                         "prices":[{"prices":{"input_mtok":1,"output_mtok":2}},
                                   {"constraint":{"start_date":"2026-06-01"},"prices":{"input_mtok":3,"cache_read_mtok":0.3,"output_mtok":6}}]}]}]
            """);
        var problem = PriceCatalogFile.TryLoad(path, out var catalog);
        Assert.True(problem is null, problem);
        var table = new PriceTable(catalog: catalog);

        Assert.Equal(ModelPrice.Of(1, 2), table.Lookup("x/acme-1-2026", "acme-1-2026", null, ProviderTypes.OpenAi, "https://api.acme.test/v1", new DateTimeOffset(2026, 5, 31, 23, 59, 0, TimeSpan.Zero)).Price);
        Assert.Equal(new ModelPrice(3, 0.3m, 6), table.Lookup("x/acme-1", "acme-1", null, ProviderTypes.Simulator, null, new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero)).Price);
        Assert.Null(table.For("openai/gpt-4o", "gpt-4o", null, ProviderTypes.OpenAi, "https://api.openai.com/v1"));

        File.WriteAllText(path, """[{"id":"acme","models":[{"id":"m","match":{"equals":"m"},"prices":{"input_mtok":{"base":1}}}]}]""");
        Assert.Contains("could not be read as genai-prices data", PriceCatalogFile.TryLoad(path, out _));
        Assert.Contains("does not exist", PriceCatalogFile.TryLoad(Path.Combine(Path.GetDirectoryName(db.Path)!, "missing.json"), out _));
    }

    [Fact]
    public void Prices_and_the_catalog_file_follow_a_configuration_reload_and_a_broken_change_is_refused()
    {
        using var db = new TempDatabase();
        var path = Path.Combine(Path.GetDirectoryName(db.Path)!, "newer.json");
        File.WriteAllText(path, """[{"id":"acme","api_pattern":"https://api\\.acme\\.test","models":[{"id":"acme-1","match":{"equals":"acme-1"},"prices":{"input_mtok":4,"output_mtok":8}}]}]""");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["prices:gpt-4o:input"] = "1", ["prices:gpt-4o:output"] = "2" }).Build();
        var options = BatonConfigurationLoader.Bind(configuration);
        var table = PriceReloader.Create(options, configuration, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal("built-in", table.Catalog.Source);
        Assert.Equal(ModelPrice.Of(1, 2), table.For("openai/gpt-4o", "gpt-4o", null, ProviderTypes.OpenAi, "https://api.openai.com/v1"));

        configuration["prices:catalogPath"] = path;
        configuration["prices:gpt-4o:input"] = "3";
        configuration.Reload();
        Assert.Equal(Path.GetFullPath(path), table.Catalog.Source);
        Assert.Equal(ModelPrice.Of(4, 8), table.For("acme/acme-1", "acme-1", null, ProviderTypes.OpenAi, "https://api.acme.test/v1"));
        Assert.Equal(ModelPrice.Of(3, 2), table.For("openai/gpt-4o", "gpt-4o", null, ProviderTypes.OpenAi, "https://api.openai.com/v1"));

        // A file that is not genai-prices data, or a price that is not a number: the prices in force stay.
        File.WriteAllText(path, "not json");
        configuration["prices:gpt-4o:input"] = "5";
        configuration.Reload();
        Assert.Equal(ModelPrice.Of(4, 8), table.For("acme/acme-1", "acme-1", null, ProviderTypes.OpenAi, "https://api.acme.test/v1"));
        Assert.Equal(ModelPrice.Of(3, 2), table.For("openai/gpt-4o", "gpt-4o", null, ProviderTypes.OpenAi, "https://api.openai.com/v1"));
    }
}
