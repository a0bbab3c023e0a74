using System.Buffers;
using System.Text.Json;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Engine;

/// <summary>Rewrites the usage of a stream's final usage chunk, keeping every other field as it came.</summary>
internal static class UsageChunk
{
    /// <summary>The chunk with <paramref name="earlier"/> added to its usage.</summary>
    public static ReadOnlyMemory<byte> AddUsage(ReadOnlySpan<byte> chunk, TokenUsage earlier)
    {
        using var document = JsonDocument.Parse(chunk.ToArray());
        var buffer = new ArrayBufferWriter<byte>(chunk.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.NameEquals("usage"u8) && property.Value.ValueKind == JsonValueKind.Object)
                {
                    var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(property.Value.GetRawText()));
                    reader.Read();
                    OpenAiUsageJson.Write(writer, OpenAiUsageJson.Read(ref reader).Add(earlier));
                }
                else
                {
                    property.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }
}
