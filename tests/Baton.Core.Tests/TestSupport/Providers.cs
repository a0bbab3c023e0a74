using Baton.Configuration;
using Baton.Providers;
using Baton.Requests;
using Baton.Simulation;

namespace Baton.Core.Tests.TestSupport;

/// <summary>Builds providers and requests for tests.</summary>
public static class TestProviders
{
    public const string FakeKey = "sk-test-0123456789abcdef";

    public static IChatProvider Create(string type, string baseUrl, Action<ProviderOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new ProviderOptions { Type = type, BaseUrl = baseUrl, ApiKeyEnv = "TEST_KEY" };
        configure?.Invoke(options);
        var factory = new ProviderFactory(
            new HttpClient(ProviderHttpHandlerFactory.Create()),
            time ?? TimeProvider.System,
            new SecretRedactor(),
            name => name == "TEST_KEY" ? FakeKey : null,
            [new ChatProviderType(ProviderTypes.Simulator, context => new SimulatorProvider(context))]);
        return factory.Create("test-" + type, options, new RequestDefaults { TimeoutSeconds = 10 });
    }

    public static ProviderRequest Request(string json, string upstreamModel = "baton-sim-1") =>
        new(ChatRequestParser.Parse(System.Text.Encoding.UTF8.GetBytes(json)), upstreamModel, new RequestDefaults());

    public static string Simple(bool stream = false, string extra = "") =>
        $$"""{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is Baton?"}],"stream":{{(stream ? "true" : "false")}}{{extra}}}""";

    public static string WithTool(bool stream = false) =>
        "{\"model\":\"m\",\"stream\":" + (stream ? "true" : "false") + ToolsAndQuestion;

    private const string ToolsAndQuestion =
        ""","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}}]}""";

    public static async Task<List<string>> ReadAllAsync(ProviderStream stream)
    {
        var chunks = new List<string>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            chunks.Add(System.Text.Encoding.UTF8.GetString(chunk.Json.Span));
        }
        return chunks;
    }
}
