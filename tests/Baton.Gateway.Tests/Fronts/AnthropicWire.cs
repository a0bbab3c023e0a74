using System.Text.Json;

namespace Baton.Gateway.Tests.Fronts;

/// <summary>
/// Reads Anthropic's wire shapes in tests and compares them with the examples of Anthropic's published API reference
/// (<c>Fronts/Golden</c>): every field an example has must be there, with the same kind of value.
/// </summary>
internal static class AnthropicWire
{
    public static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fronts", "Golden", name));

    public static JsonElement GoldenJson(string name) => JsonDocument.Parse(Golden(name)).RootElement;

    /// <summary>The events of an SSE body, in order: the event name and its JSON data (comments skipped).</summary>
    public static List<(string Event, JsonElement Data)> Events(string sse)
    {
        var events = new List<(string, JsonElement)>();
        foreach (var frame in sse.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            string? data = null;
            foreach (var line in frame.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
            }
            if (name is not null && data is not null)
            {
                events.Add((name, JsonDocument.Parse(data).RootElement));
            }
        }
        return events;
    }

    /// <summary>Every field of <paramref name="golden"/> is in <paramref name="actual"/> with the same kind of value.</summary>
    public static void AssertShape(JsonElement golden, JsonElement actual, string path = "$")
    {
        switch (golden.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.True(actual.ValueKind == JsonValueKind.Object, $"{path}: expected an object, got {actual.ValueKind}");
                foreach (var property in golden.EnumerateObject())
                {
                    Assert.True(actual.TryGetProperty(property.Name, out var value), $"{path}.{property.Name} is missing in {actual}");
                    // A tool's input is whatever the tool takes; only its kind is fixed.
                    if (property.Name == "input")
                    {
                        Assert.Equal(JsonValueKind.Object, value.ValueKind);
                        continue;
                    }
                    AssertShape(property.Value, value, $"{path}.{property.Name}");
                }
                break;
            case JsonValueKind.Array:
                Assert.True(actual.ValueKind == JsonValueKind.Array, $"{path}: expected an array, got {actual.ValueKind}");
                foreach (var item in golden.EnumerateArray())
                {
                    // Items are matched by their type (content blocks), else by position.
                    var type = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("type", out var t) ? t.GetString() : null;
                    var match = type is null
                        ? actual.EnumerateArray().FirstOrDefault()
                        : actual.EnumerateArray().FirstOrDefault(a => a.ValueKind == JsonValueKind.Object && a.TryGetProperty("type", out var at) && at.GetString() == type);
                    Assert.True(match.ValueKind != JsonValueKind.Undefined, $"{path}: no item of type '{type}' in {actual}");
                    AssertShape(item, match, $"{path}[{type}]");
                }
                break;
            case JsonValueKind.True or JsonValueKind.False:
                Assert.True(actual.ValueKind is JsonValueKind.True or JsonValueKind.False, $"{path}: expected a boolean, got {actual.ValueKind}");
                break;
            default:
                Assert.True(golden.ValueKind == actual.ValueKind, $"{path}: expected {golden.ValueKind}, got {actual.ValueKind} ({actual})");
                break;
        }
    }

    /// <summary>
    /// The order Anthropic's streams keep: <c>message_start</c> first, <c>message_stop</c> last, right after one
    /// <c>message_delta</c>; each block started once, its deltas between its start and its stop, indexes from 0 in order;
    /// every event named as its data's type.
    /// </summary>
    public static void AssertSequence(List<(string Event, JsonElement Data)> events)
    {
        Assert.All(events, e => Assert.Equal(e.Event, e.Data.GetProperty("type").GetString()));
        Assert.Equal("message_start", events[0].Event);
        Assert.Equal("message_stop", events[^1].Event);
        Assert.Equal("message_delta", events[^2].Event);
        Assert.Single(events, e => e.Event == "message_delta");
        var open = new HashSet<long>();
        var next = 0L;
        foreach (var (name, data) in events)
        {
            switch (name)
            {
                case "content_block_start":
                    Assert.Equal(next++, data.GetProperty("index").GetInt64());
                    open.Add(data.GetProperty("index").GetInt64());
                    break;
                case "content_block_delta":
                    Assert.Contains(data.GetProperty("index").GetInt64(), open);
                    break;
                case "content_block_stop":
                    Assert.True(open.Remove(data.GetProperty("index").GetInt64()), $"block {data} stopped without being open");
                    break;
                case "message_delta":
                    Assert.Empty(open);
                    break;
            }
        }
    }

    /// <summary>Every kind of event in <paramref name="golden"/> (block and delta types included) occurs in <paramref name="actual"/> with its shape.</summary>
    public static void AssertEventShapes(List<(string Event, JsonElement Data)> golden, List<(string Event, JsonElement Data)> actual)
    {
        foreach (var (name, data) in golden)
        {
            var kind = Kind(data);
            var match = actual.FirstOrDefault(a => a.Event == name && Kind(a.Data) == kind);
            Assert.True(match.Event is not null, $"no '{name}' event of kind '{kind}' in the stream");
            AssertShape(data, match.Data, name);
        }
    }

    private static string? Kind(JsonElement data) =>
        data.TryGetProperty("content_block", out var block) ? block.GetProperty("type").GetString()
        : data.TryGetProperty("delta", out var delta) && delta.TryGetProperty("type", out var type) ? type.GetString()
        : null;
}
