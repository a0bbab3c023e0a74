using System.Text.Json;

namespace Baton.Providers.Gemini;

/// <summary>
/// Copies a JSON Schema into Gemini's <c>parameters</c>, which take an OpenAPI subset and reject some JSON
/// Schema keywords outright (the whole request fails with 400), so those are left out at every depth.
/// </summary>
internal static class GeminiSchema
{
    private static readonly HashSet<string> Rejected = new(StringComparer.Ordinal)
    {
        "$schema", "$id", "$comment", "additionalProperties", "strict",
    };

    public static void Write(Utf8JsonWriter writer, JsonElement schema)
    {
        switch (schema.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in schema.EnumerateObject())
                {
                    if (Rejected.Contains(property.Name))
                    {
                        continue;
                    }
                    writer.WritePropertyName(property.Name);
                    if (property.Name == "properties" && property.Value.ValueKind == JsonValueKind.Object)
                    {
                        // The keys here are the caller's property names, not keywords: keep every one.
                        WriteProperties(writer, property.Value);
                    }
                    else
                    {
                        Write(writer, property.Value);
                    }
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in schema.EnumerateArray())
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            default:
                schema.WriteTo(writer);
                break;
        }
    }

    private static void WriteProperties(Utf8JsonWriter writer, JsonElement properties)
    {
        writer.WriteStartObject();
        foreach (var property in properties.EnumerateObject())
        {
            writer.WritePropertyName(property.Name);
            Write(writer, property.Value);
        }
        writer.WriteEndObject();
    }
}
