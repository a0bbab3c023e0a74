using System.Text.Json;
using Baton.Embeddings;

namespace Baton.Providers.OpenAi;

/// <summary>
/// The embeddings request for an OpenAI-compatible upstream (<c>POST {baseUrl}/embeddings</c>): the client's request
/// with the upstream model in place of the requested one, and vectors asked for as numbers, which every compatible
/// server sends (not all of them send base64); Baton encodes them as the client asked. Fields Baton does not
/// read (a server's own options, such as vLLM's <c>truncate_prompt_tokens</c>) are passed on as they came.
/// </summary>
internal static class OpenAiEmbeddings
{
    /// <param name="request">The request for this deployment.</param>
    /// <param name="namesModel">False for an Azure OpenAI deployment, whose path names the model.</param>
    public static byte[] WriteRequest(EmbeddingProviderRequest request, bool namesModel = true)
    {
        var embedding = request.Embedding;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (namesModel)
            {
                writer.WriteString("model"u8, request.UpstreamModel);
            }
            writer.WritePropertyName("input"u8);
            embedding.WriteInputs(writer);
            writer.WriteString("encoding_format"u8, EmbeddingEncodings.Float);
            if (embedding.Dimensions is { } dimensions)
            {
                writer.WriteNumber("dimensions"u8, dimensions);
            }
            if (embedding.Options.User is { } user)
            {
                writer.WriteString("user"u8, user);
            }
            foreach (var (name, value) in embedding.Extra)
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads the answer: one vector per input, and the reported prompt tokens.</summary>
    public static ProviderEmbeddings ReadAnswer(string provider, ReadOnlyMemory<byte> body, int inputs) =>
        UpstreamJson.Read(provider, "an embeddings response", () =>
        {
            var vectors = EmbeddingJson.ReadVectors(body.Span, provider, out var promptTokens);
            return vectors.Count == inputs
                ? new ProviderEmbeddings(vectors, promptTokens)
                : throw new JsonException($"{provider} answered {vectors.Count} embeddings for {inputs} inputs.");
        });
}
