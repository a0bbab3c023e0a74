using Baton.Errors;

namespace Baton.Embeddings;

/// <summary>Brings an upstream's vectors to the dimensions a request asked for.</summary>
internal static class EmbeddingVectors
{
    /// <summary>
    /// A vector longer than <paramref name="dimensions"/> (an upstream that ignores the parameter) is shortened and
    /// scaled back to unit length, as OpenAI shortens its own; one shorter cannot be lengthened and is refused, so
    /// that the caller never gets vectors of a size it did not ask for.
    /// </summary>
    public static IReadOnlyList<float[]> Fit(IReadOnlyList<float[]> vectors, int? dimensions, string deployment)
    {
        if (dimensions is not { } wanted)
        {
            return vectors;
        }
        var fitted = new float[vectors.Count][];
        for (var i = 0; i < vectors.Count; i++)
        {
            var vector = vectors[i];
            if (vector.Length == wanted)
            {
                fitted[i] = vector;
                continue;
            }
            if (vector.Length < wanted)
            {
                throw BatonException.InvalidRequest(
                    $"The deployment '{deployment}' makes vectors of {vector.Length} dimensions; 'dimensions' asked for {wanted}, more than it has.",
                    "dimensions", "invalid_value");
            }
            fitted[i] = Normalized(vector.AsSpan(0, wanted));
        }
        return fitted;
    }

    private static float[] Normalized(ReadOnlySpan<float> values)
    {
        var sum = 0d;
        foreach (var value in values)
        {
            sum += (double)value * value;
        }
        var scale = sum > 0 ? 1 / Math.Sqrt(sum) : 1;
        var result = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = (float)(values[i] * scale);
        }
        return result;
    }
}
