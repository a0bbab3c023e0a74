using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Errors;

namespace Baton.Requests;

/// <summary>
/// A request's <c>context</c>: named pieces of background (existing code, a project's layout, the errors to
/// expect) given beside the prompt instead of pasted into it. They are written into the last user message, ahead
/// of what the user asked, one labelled section per key: text as it is, anything else as JSON. The context is
/// then removed from <c>metadata</c>, so an upstream sees an ordinary prompt, and the cache keys on what was sent.
/// </summary>
public static class PromptContext
{
    /// <summary>The <c>metadata</c> key that carries the context over HTTP.</summary>
    public const string MetadataKey = "context";

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// The body with <c>metadata.context</c> (an object, or a string holding one: OpenAI's SDKs send metadata
    /// values as strings) and <paramref name="extra"/> rendered into the last user message, and the key removed.
    /// </summary>
    public static byte[] Inject(ReadOnlySpan<byte> body, IEnumerable<KeyValuePair<string, JsonNode?>>? extra = null)
    {
        var root = JsonNode.Parse(body)!.AsObject();
        var context = new List<KeyValuePair<string, JsonNode?>>();
        if (root["metadata"] is JsonObject metadata && metadata.TryGetPropertyValue(MetadataKey, out var given))
        {
            metadata.Remove(MetadataKey);
            if (metadata.Count == 0)
            {
                root.Remove("metadata");
            }
            context.AddRange(Read(given));
        }
        if (extra is not null)
        {
            context.AddRange(extra.Select(pair => KeyValuePair.Create(pair.Key, pair.Value?.DeepClone())));
        }
        if (context.Count > 0)
        {
            Render(root, context);
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>The context as text, one labelled section per key, followed by a blank line.</summary>
    public static string Format(IEnumerable<KeyValuePair<string, JsonNode?>> context)
    {
        var text = new StringBuilder("Context:\n");
        foreach (var (key, value) in context)
        {
            var rendered = value is JsonValue scalar && scalar.GetValueKind() == JsonValueKind.String
                ? scalar.GetValue<string>()
                : value?.ToJsonString(Indented) ?? "null";
            // One-line values sit beside their key; longer ones go below it, fenced, so their own lines stay theirs.
            text.Append(rendered.Contains('\n')
                ? $"\n### {key}\n```\n{rendered.TrimEnd('\n')}\n```\n"
                : $"- {key}: {rendered}\n");
        }
        return text.Append('\n').ToString();
    }

    private static List<KeyValuePair<string, JsonNode?>> Read(JsonNode? given)
    {
        var context = given switch
        {
            JsonObject value => value,
            JsonValue text when text.GetValueKind() == JsonValueKind.String => ParseObject(text.GetValue<string>()),
            null => new JsonObject(),
            _ => null,
        } ?? throw Invalid();
        return context.Select(pair => KeyValuePair.Create(pair.Key, pair.Value?.DeepClone())).ToList();
    }

    private static JsonObject? ParseObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static BatonException Invalid() => BatonException.InvalidRequest(
        "Invalid value for 'metadata.context': expected an object of named values (or a string holding a JSON object).",
        "metadata.context", "invalid_value");

    private static void Render(JsonObject root, IReadOnlyList<KeyValuePair<string, JsonNode?>> context)
    {
        var messages = root["messages"] as JsonArray;
        var last = messages?.OfType<JsonObject>().LastOrDefault(m => (string?)m["role"] == "user");
        if (last is null)
        {
            throw BatonException.InvalidRequest("'metadata.context' needs a user message to go with; the request has none.",
                "metadata.context", "invalid_value");
        }
        var block = Format(context);
        switch (last["content"])
        {
            case JsonArray parts:
                parts.Insert(0, new JsonObject { ["type"] = "text", ["text"] = block });
                break;
            case JsonValue text when text.GetValueKind() == JsonValueKind.String:
                last["content"] = block + text.GetValue<string>();
                break;
            default:
                last["content"] = block.TrimEnd('\n');
                break;
        }
    }
}
