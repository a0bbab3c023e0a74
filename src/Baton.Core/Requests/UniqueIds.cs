namespace Baton.Requests;

/// <summary>
/// The ids the request path makes for itself: ledger rows' attempt ids and shared-state lease ids, as 32 hexadecimal
/// digits. They only have to be unique, never unguessable, so their random bits come from <see cref="Random.Shared"/>
/// (seeded from the operating system once per process): <see cref="Guid.NewGuid"/> and
/// <see cref="Guid.CreateVersion7(DateTimeOffset)"/> read the operating system's random source, a system call on
/// every request.
/// </summary>
internal static class UniqueIds
{
    /// <summary>
    /// A time-ordered UUID (version 7, RFC 9562) whose first 48 bits are <paramref name="now"/> in Unix milliseconds, so
    /// that ids made later sort later; 74 random bits.
    /// </summary>
    public static string TimeOrdered(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Random.Shared.NextBytes(bytes[6..]);
        var milliseconds = now.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)milliseconds;
            milliseconds >>= 8;
        }
        return Hex(bytes, version: 7);
    }

    /// <summary>A random UUID (version 4): 122 random bits, for ids several gateways make independently.</summary>
    public static string Random()
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Random.Shared.NextBytes(bytes);
        return Hex(bytes, version: 4);
    }

    /// <summary>The UUID in <paramref name="bytes"/> (big-endian) with its version and the RFC's variant set, as 32 hex digits.</summary>
    private static string Hex(Span<byte> bytes, int version)
    {
        bytes[6] = (byte)((version << 4) | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true).ToString("N");
    }
}
