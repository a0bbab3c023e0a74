using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Providers;
using Baton.Providers.Anthropic;

namespace Baton.Core.Tests.Providers.Anthropic;

/// <summary>The Anthropic fixtures copied next to the tests, and helpers to run them through the translators.</summary>
internal static class AnthropicFixtures
{
    public const long Created = 1_700_000_000;

    public static byte[] Read(string name) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Providers", "Fixtures", "anthropic", name));

    public static JsonNode Node(string name) => JsonNode.Parse(Read(name))!;

    public static AnthropicStreamTranslator Stream(byte[] sse) =>
        new("test-anthropic", new MemoryStream(sse), Created, new SecretRedactor());

    /// <summary>Every chunk of a stream, parsed, with whether it was the usage-only one.</summary>
    public static async Task<List<(JsonNode Json, bool UsageOnly)>> ReadAllAsync(ProviderStream stream)
    {
        var chunks = new List<(JsonNode, bool)>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            chunks.Add((JsonNode.Parse(chunk.Json.Span)!, chunk.IsUsageOnly));
        }
        return chunks;
    }

    public static JsonNode? Delta(JsonNode chunk) => chunk["choices"]![0]!["delta"];

    /// <summary>Joins one delta field over all chunks, as a client does.</summary>
    public static string Join(IEnumerable<(JsonNode Json, bool UsageOnly)> chunks, Func<JsonNode, JsonNode?> field) =>
        string.Concat(chunks.Where(c => !c.UsageOnly).Select(c => field(Delta(c.Json)!)?.GetValue<string>()));

    public static JsonElement Element(byte[] json) => JsonDocument.Parse(json).RootElement;
}
