using System.Text.Json;

namespace Baton.Errors;

/// <summary>Writes errors in OpenAI's shape, extended with the provider, upstream status and failed attempts when known.</summary>
public static class OpenAiErrorWriter
{
    /// <summary>
    /// Writes <paramref name="error"/> as one JSON object, <c>{"error":{"message","type","param","code"}}</c> (<c>param</c>
    /// and <c>code</c> written as null when absent), plus <c>provider</c>, <c>upstream_status</c>, a validation's <c>errors</c>
    /// and the failed <c>attempts</c> when the error has them.
    /// </summary>
    /// <param name="writer">Where the object is written, as a value: at the start, or where a value is expected.</param>
    /// <param name="error">The error; its message is written as it is, so it must hold no secret (Baton's own never do).</param>
    public static void Write(Utf8JsonWriter writer, BatonException error)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", error.Message);
        writer.WriteString("type", error.Type);
        if (error.Param is null) writer.WriteNull("param"); else writer.WriteString("param", error.Param);
        if (error.Code is null) writer.WriteNull("code"); else writer.WriteString("code", error.Code);
        if (error.Provider is not null) writer.WriteString("provider", error.Provider);
        if (error.UpstreamStatus is int status) writer.WriteNumber("upstream_status", status);
        if (error is Batching.BatonValidationException invalid)
        {
            writer.WriteStartArray("errors");
            foreach (var field in invalid.Errors)
            {
                writer.WriteStartObject();
                writer.WriteString("param", field.Param);
                writer.WriteString("message", field.Message);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        if (error.Attempts.Count > 0)
        {
            writer.WriteStartArray("attempts");
            foreach (var attempt in error.Attempts)
            {
                writer.WriteStartObject();
                writer.WriteString("deployment", attempt.Deployment);
                if (attempt.UpstreamStatus is int attemptStatus) writer.WriteNumber("upstream_status", attemptStatus); else writer.WriteNull("upstream_status");
                if (attempt.Code is null) writer.WriteNull("code"); else writer.WriteString("code", attempt.Code);
                writer.WriteString("message", attempt.Message);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The error's JSON body (as <see cref="Write"/> writes it), as UTF-8 bytes ready to send.</summary>
    public static byte[] ToUtf8(BatonException error)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Baton.Providers.OpenAi.OpenAiJson.WriterOptions))
        {
            Write(writer, error);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
