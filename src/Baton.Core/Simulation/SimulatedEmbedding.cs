using System.Security.Cryptography;
using System.Text;

namespace Baton.Simulation;

/// <summary>
/// The simulated embedding of a text: a unit vector drawn from a generator seeded with the text's SHA-256, so the
/// same text always gets the same vector (in and out of process, in every wire format) and different texts
/// nearly orthogonal ones. Asking for fewer dimensions gives the first ones of the same draw, scaled back to unit
/// length, as OpenAI's shortened embeddings are. Only additions, multiplications and a square root are used, so
/// the vector is the same on every machine.
/// </summary>
public static class SimulatedEmbedding
{
    /// <summary>The dimensions a simulated model has: those of the OpenAI model its name mentions, else 768.</summary>
    public static int DefaultDimensions(string model) =>
        model.Contains("3-large", StringComparison.OrdinalIgnoreCase) ? 3072
        : model.Contains("3-small", StringComparison.OrdinalIgnoreCase) || model.Contains("ada", StringComparison.OrdinalIgnoreCase) ? 1536
        : 768;

    /// <summary>The unit vector of <paramref name="text"/> with <paramref name="dimensions"/> dimensions.</summary>
    public static float[] Vector(string text, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        var state = BitConverter.ToUInt64(hash);
        var values = new double[dimensions];
        var sum = 0d;
        for (var i = 0; i < dimensions; i++)
        {
            // SplitMix64, mapped to [-1, 1).
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            values[i] = ((z >> 11) * (1.0 / (1UL << 53)) * 2) - 1;
            sum += values[i] * values[i];
        }
        var scale = 1 / Math.Sqrt(sum);
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(values[i] * scale);
        }
        return vector;
    }
}
