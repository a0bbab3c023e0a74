using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Baton.Caching;

/// <summary>
/// The cache key of a request: a SHA-256 of its canonical form. The canonical form is the body with the
/// resolved model in place of the requested name, object keys sorted, numbers normalised (0.70 = 0.7) and
/// whitespace dropped, without the fields that do not change the answer (streaming, metadata, user). So
/// two requests that differ only in key order or spacing share an entry, and any other difference misses.
/// </summary>
public static class CacheKey
{
    private static readonly HashSet<string> NotPartOfTheAnswer = new(StringComparer.Ordinal)
    {
        "model", "stream", "stream_options", "metadata", "user", "store", "service_tier",
    };

    public static string Compute(ReadOnlySpan<byte> body, string resolvedModel)
    {
        var reader = new Utf8JsonReader(body);
        using var document = JsonDocument.ParseValue(ref reader);
        var buffer = new ArrayBufferWriter<byte>(body.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", resolvedModel.ToLowerInvariant());
            foreach (var property in document.RootElement.EnumerateObject()
                         .Where(p => !NotPartOfTheAnswer.Contains(p.Name))
                         .OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                writer.WritePropertyName(property.Name);
                WriteCanonical(writer, property.Value);
            }
            writer.WriteEndObject();
        }
        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteCanonical(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number when value.TryGetDecimal(out var number):
                // Dividing by 1.000... drops trailing zeros, so 0.70 and 0.7 write the same.
                writer.WriteNumberValue(number / 1.0000000000000000000000000000m);
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }
}
