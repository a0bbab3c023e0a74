using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Baton.Simulation;

/// <summary>
/// What a simulated model answers when asked for JSON: a value that satisfies the requested JSON Schema
/// (every property, enums, integer ranges, array lengths), the same for the same prompt. Reasoning models
/// put a <c>&lt;think&gt;</c> block and a code fence around it, as deepseek-r1 does, so callers' tolerant
/// readers are exercised without a real model.
/// </summary>
internal static class SimulatedJson
{
    private const int MaxDepth = 8;

    private static readonly string[] Words =
    [
        "modular", "service", "layer", "tests", "pipeline", "deploy", "container", "cache", "queue", "users",
        "clear", "docs", "api", "costs", "scale", "small", "teams", "roadmap", "secure", "config",
    ];

    public static string Compose(string? schemaJson, string model, Random random)
    {
        JsonObject? schema = null;
        if (schemaJson is not null)
        {
            try
            {
                schema = JsonNode.Parse(schemaJson) as JsonObject;
            }
            catch (System.Text.Json.JsonException)
            {
                // A schema the simulator cannot read still gets a JSON answer: an object with one text field.
            }
        }
        var value = schema is null ? new JsonObject { ["answer"] = Sentence(random, 8) } : Sample(schema, random, 0);
        var json = value?.ToJsonString() ?? "null";
        if (!SimulatedModel.IsReasoningModel(model))
        {
            return json;
        }
        return $"<think>\nThe answer must be one JSON value {{ with the fields asked for }}; {Sentence(random, 10)}.\n</think>\n\n```json\n{json}\n```";
    }

    private static JsonNode? Sample(JsonObject schema, Random random, int depth)
    {
        if (schema["const"] is { } constant)
        {
            return constant.DeepClone();
        }
        if (schema["enum"] is JsonArray { Count: > 0 } choices)
        {
            return choices[random.Next(choices.Count)]?.DeepClone();
        }
        var type = TypeOf(schema);
        if (depth >= MaxDepth && type is "object" or "array")
        {
            return type == "object" ? new JsonObject() : new JsonArray();
        }
        switch (type)
        {
            case "object":
                var result = new JsonObject();
                if (schema["properties"] is JsonObject properties)
                {
                    foreach (var (name, property) in properties)
                    {
                        result[name] = property is JsonObject inner ? Sample(inner, random, depth + 1) : Sentence(random, 4);
                    }
                }
                return result;
            case "array":
                var items = new JsonArray();
                var min = Number(schema, "minItems") is double least ? (int)least : 1;
                var max = Number(schema, "maxItems") is double most ? (int)most : Math.Max(min, 3);
                var count = min + random.Next(Math.Max(1, max - min + 1));
                for (var i = 0; i < count; i++)
                {
                    items.Add(schema["items"] is JsonObject item ? Sample(item, random, depth + 1) : Sentence(random, 4));
                }
                return items;
            case "integer":
                var low = (long)Math.Ceiling(Number(schema, "minimum") ?? 0);
                var high = (long)Math.Floor(Number(schema, "maximum") ?? low + 10);
                return high <= low ? low : low + random.NextInt64(high - low + 1);
            case "number":
                var from = Number(schema, "minimum") ?? 0;
                var to = Number(schema, "maximum") ?? from + 10;
                return Math.Round(from + random.NextDouble() * (to - from), 2);
            case "boolean":
                return random.Next(2) == 1;
            case "null":
                return null;
            default:
                return Sentence(random, 6 + random.Next(8));
        }
    }

    /// <summary>The schema's type; the first non-null one of a list such as <c>["string", "null"]</c>.</summary>
    private static string TypeOf(JsonObject schema) => schema["type"] switch
    {
        JsonValue value when value.TryGetValue<string>(out var type) => type,
        JsonArray types => types.Select(t => t?.GetValue<string>()).FirstOrDefault(t => t is not null and not "null") ?? "null",
        _ => schema["properties"] is not null ? "object" : schema["items"] is not null ? "array" : "string",
    };

    private static double? Number(JsonObject schema, string keyword) =>
        schema[keyword] is JsonValue value && value.TryGetValue<double>(out var number) ? number : null;

    private static string Sentence(Random random, int words)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < words; i++)
        {
            builder.Append(i == 0 ? "" : " ").Append(Words[random.Next(Words.Length)]);
        }
        return builder.Length > 0 ? char.ToUpper(builder[0], CultureInfo.InvariantCulture) + builder.ToString(1, builder.Length - 1) : "";
    }
}
