using Baton.Configuration;
using Microsoft.Extensions.Configuration;

namespace Baton.Core.Tests.Configuration;

/// <summary>What a user sees for each kind of mistake in <c>baton.json</c>: every problem at once, with its key path.</summary>
public sealed class ConfigurationErrorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-config-errors-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string, string[]> Mistakes => new()
    {
        { """{ "providers": { "sim": { "type": "simulator", "timeoutSecnds": 5 } } }""",
            ["providers.sim.timeoutSecnds: unknown key; did you mean timeoutSeconds?"] },
        { """{ "modles": {} }""", ["modles: unknown key; did you mean models?"] },
        { """{ "providers": { "sim": { "type": "simulator", "timeoutSeconds": "soon" } } }""",
            ["providers.sim.timeoutSeconds: 'soon' is not a number."] },
        { """{ "models": { "m": { "deployments": [ { "provider": "sim", "model": "x", "maxTokens": 1.5, "temprature": 1 } ] } } }""",
            ["models.m.deployments[0].maxTokens: '1.5' is not a whole number.", "models.m.deployments[0].temprature: unknown key; did you mean temperature?"] },
        { """{ "ledger": { "enabled": "yes" }, "cache": { "mode": { "on": true } } }""",
            ["ledger.enabled: 'yes' is not true or false.", "cache.mode: expected a text value, found an object or a list."] },
        { """{ "models": { "m": { "fallbacks": "other" } } }""",
            ["models.m.fallbacks: expected a list or an object, found the value 'other'."] },
        { """{ "resilience": { "circuitBreaker": { "failureRatoi": 0.5 } }, "defaults": { "colour": "blue" } }""",
            ["resilience.circuitBreaker.failureRatoi: unknown key; did you mean failureRatio?",
             "defaults.colour: unknown key; expected one of maxTokens, temperature, timeoutSeconds, topP."] },
        { """{ "Providers": { "sim": { "Simulator": { "latencyMs": "slow" } } } }""",
            ["providers.sim.simulator.latencyMs: 'slow' is not a number."] },
        { """{ "auth": { "masterKeyEnvv": "BATON_MASTER_KEY", "allowAnonymous": "maybe" } }""",
            ["auth.masterKeyEnvv: unknown key; did you mean masterKeyEnv?", "auth.allowAnonymous: 'maybe' is not true or false."] },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Every_mistake_is_reported_with_its_path(string json, string[] expected)
    {
        var errors = Load(json);
        Assert.Equal(expected.Order(StringComparer.Ordinal), errors.Order(StringComparer.Ordinal));
        Assert.All(errors, e => Assert.DoesNotContain("ErrorOnUnknownConfiguration", e));
    }

    [Fact]
    public void A_colon_in_a_dictionary_key_is_explained()
    {
        // Prices are read by hand and take such keys (see PriceTableTests); other dictionaries go through the binder.
        var error = Assert.Single(Load("""{ "providers": { "local:8b": { "type": "ollama" } } }"""));
        Assert.StartsWith("providers.local.8b: unknown key; expected one of ", error);
        Assert.EndsWith("(A ':' separates configuration sections, so 'local:8b' is read as 'local' holding '8b'.)", error);
    }

    [Fact]
    public void Several_typos_in_different_sections_are_all_reported_at_once()
    {
        var errors = Load("""
            { "providers": { "sim": { "type": "simulator", "baseUrll": "http://x", "rateLimits": { "requestsPerMinut": 10 } } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "x" } ], "strategyy": "ordered" } },
              "cach": { "mode": "on" } }
            """);
        Assert.Equal(4, errors.Count);
        Assert.Contains("providers.sim.baseUrll: unknown key; did you mean baseUrl?", errors);
        Assert.Contains("providers.sim.rateLimits.requestsPerMinut: unknown key; did you mean requestsPerMinute?", errors);
        Assert.Contains("models.m.strategyy: unknown key; did you mean strategy?", errors);
        Assert.Contains("cach: unknown key; did you mean cache?", errors);
    }

    [Fact]
    public void Dictionary_sections_take_any_key()
    {
        var path = Write("""
            { "providers": { "sim": { "type": "simulator", "headers": { "X-Anything": "1" } } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "prices": { "any/model": { "input": 1 } }, "tasks": { "my_task": "general" } }
            """);
        Assert.Equal("1", BatonConfigurationLoader.Load(path, _directory).Options.Providers["sim"].Headers["x-anything"]);
    }

    [Fact]
    public void The_auth_section_is_known_to_the_checker()
    {
        var path = Write("""
            { "providers": { "sim": { "type": "simulator" } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } },
              "auth": { "masterKeyEnv": "BATON_MASTER_KEY", "allowAnonymous": false, "path": "keys.db" } }
            """);
        var auth = BatonConfigurationLoader.Load(path, _directory).Options.Auth;
        Assert.Equal("BATON_MASTER_KEY", auth.MasterKeyEnv);
        Assert.Equal("keys.db", auth.Path);
    }

    [Theory]
    [InlineData("{ \"providers\": { \"sim\": { \"type\": \"simulator\" } ", "line 1, column")]
    [InlineData("{\n  \"providers\": {\n    \"sim\": { \"type\": simulator }\n  }\n}", "line 3, column 2")]
    [InlineData("[1, 2]", "must be a JSON object")]
    public void Invalid_json_is_reported_with_line_and_column(string json, string expected)
    {
        var error = Assert.Single(Load(json));
        Assert.StartsWith("typo.json: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_baton_section_of_appsettings_is_reported_with_its_prefix()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Baton:cache:ttlSecond"] = "5" })
            .Build();
        var error = Assert.Throws<BatonConfigurationException>(() => BatonConfigurationLoader.Bind(configuration.GetSection("Baton")));
        Assert.Equal("Baton.cache.ttlSecond: unknown key; did you mean ttlSeconds?", Assert.Single(error.Errors));
    }

    [Theory]
    [InlineData("timeoutSecnds", "timeoutSeconds", 1)]
    [InlineData("modles", "models", 1)]
    [InlineData("abc", "abc", 0)]
    [InlineData("ab", "ba", 1)]
    [InlineData("kitten", "sitting", 3)]
    public void Distance_counts_swaps_as_one_edit(string a, string b, int distance) =>
        Assert.Equal(distance, ConfigurationChecker.Distance(a, b));

    private string Write(string json)
    {
        var path = Path.Combine(_directory, "typo.json");
        File.WriteAllText(path, json);
        return path;
    }

    private IReadOnlyList<string> Load(string json)
    {
        var path = Write(json);
        return Assert.Throws<BatonConfigurationException>(() => BatonConfigurationLoader.Load(path, _directory)).Errors;
    }
}
