using System.Text.Json;
using Baton.Embeddings;

namespace Baton.Providers.Ollama;

/// <summary>
/// Ollama's embeddings: <c>POST {root}/api/embed</c> with <c>{"model","input":string or [strings],"dimensions"}</c>,
/// answered with <c>{"model","embeddings":[[...]],"prompt_eval_count"}</c> (the prompt tokens). Ollama takes text
/// only: a token array is decoded first.
/// </summary>
internal static class OllamaEmbeddings
{
    public static byte[] WriteRequest(EmbeddingProviderRequest request)
    {
        var embedding = request.Embedding;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, request.UpstreamModel);
            if (embedding.Inputs.Count == 1)
            {
                writer.WriteString("input"u8, embedding.TextOf(0));
            }
            else
            {
                writer.WriteStartArray("input"u8);
                for (var i = 0; i < embedding.Inputs.Count; i++)
                {
                    writer.WriteStringValue(embedding.TextOf(i));
                }
                writer.WriteEndArray();
            }
            if (embedding.Dimensions is { } dimensions)
            {
                writer.WriteNumber("dimensions"u8, dimensions);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static ProviderEmbeddings ReadAnswer(string provider, ReadOnlyMemory<byte> body, int inputs) =>
        UpstreamJson.Read(provider, "an embeddings response", body, root =>
        {
            var embeddings = root.GetProperty("embeddings");
            if (embeddings.GetArrayLength() != inputs)
            {
                throw new JsonException($"{provider} answered {embeddings.GetArrayLength()} embeddings for {inputs} inputs.");
            }
            int? tokens = root.TryGetProperty("prompt_eval_count", out var count) && count.TryGetInt32(out var n) ? n : null;
            return new ProviderEmbeddings(embeddings.EnumerateArray().Select(EmbeddingJson.ReadFloats).ToArray(), tokens);
        });
}
