namespace Baton.Embeddings;

/// <summary>The <c>encoding_format</c> values of an embeddings request.</summary>
public static class EmbeddingEncodings
{
    /// <summary>Each vector as a JSON array of numbers (the default).</summary>
    public const string Float = "float";

    /// <summary>Each vector as base64 of its little-endian 32-bit floats, as OpenAI sends it (the OpenAI SDKs ask for this).</summary>
    public const string Base64 = "base64";

    /// <summary>A vector as the bytes <see cref="Base64"/> encodes: little-endian 32-bit floats, whatever this machine's byte order.</summary>
    public static byte[] ToLittleEndianBytes(ReadOnlySpan<float> vector) => EmbeddingJson.ToBytes(vector);
}
