using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Core.Tests.Providers.Gemini;

/// <summary>The Gemini fixtures (see Fixtures/SOURCES.md) and a field-by-field JSON comparison that names the first difference.</summary>
internal static class GeminiFixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Providers", "Fixtures", "gemini", name);

    public static string Text(string name) => File.ReadAllText(Path(name));

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    public static void AssertSameJson(string expected, string actual) =>
        AssertSame(JsonNode.Parse(expected), JsonNode.Parse(actual), "$");

    private static void AssertSame(JsonNode? expected, JsonNode? actual, string path)
    {
        switch (expected)
        {
            case null:
                Assert.True(actual is null, $"{path}: expected null, got {actual?.ToJsonString()}");
                break;
            case JsonObject expectedObject:
                var actualObject = Assert.IsType<JsonObject>(actual, exactMatch: false);
                var missing = expectedObject.Select(p => p.Key).Except(actualObject.Select(p => p.Key)).ToList();
                var extra = actualObject.Select(p => p.Key).Except(expectedObject.Select(p => p.Key)).ToList();
                Assert.True(missing.Count == 0, $"{path}: missing {string.Join(", ", missing)}");
                Assert.True(extra.Count == 0, $"{path}: unexpected {string.Join(", ", extra)}");
                foreach (var (name, value) in expectedObject)
                {
                    AssertSame(value, actualObject[name], $"{path}.{name}");
                }
                break;
            case JsonArray expectedArray:
                var actualArray = Assert.IsType<JsonArray>(actual, exactMatch: false);
                Assert.True(expectedArray.Count == actualArray.Count, $"{path}: expected {expectedArray.Count} items, got {actualArray.Count}");
                for (var i = 0; i < expectedArray.Count; i++)
                {
                    AssertSame(expectedArray[i], actualArray[i], $"{path}[{i}]");
                }
                break;
            default:
                var expectedValue = expected.AsValue();
                var actualValue = Assert.IsType<JsonValue>(actual, exactMatch: false);
                if (expectedValue.GetValueKind() == JsonValueKind.Number && actualValue.GetValueKind() == JsonValueKind.Number)
                {
                    Assert.True(expectedValue.GetValue<decimal>() == actualValue.GetValue<decimal>(), $"{path}: expected {expected.ToJsonString()}, got {actualValue.ToJsonString()}");
                }
                else
                {
                    Assert.True(expected.ToJsonString() == actualValue.ToJsonString(), $"{path}: expected {expected.ToJsonString()}, got {actualValue.ToJsonString()}");
                }
                break;
        }
    }
}
