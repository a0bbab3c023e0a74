namespace Baton.Accounting.Ledger;

/// <summary>
/// The ids of ledger rows: time-ordered UUIDs (version 7, RFC 9562) as 32 hexadecimal digits. An id only has to be
/// unique, never unguessable, so its 74 random bits come from <see cref="Random.Shared"/>: <see cref="Guid.CreateVersion7(DateTimeOffset)"/>
/// draws them from the operating system, a system call on every request.
/// </summary>
internal static class AttemptIds
{
    /// <summary>A new id whose first 48 bits are <paramref name="now"/> in Unix milliseconds, so ids made later sort later.</summary>
    public static string New(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes[6..]);
        var milliseconds = now.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)milliseconds;
            milliseconds >>= 8;
        }
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F)); // version 7
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F)); // the RFC's variant
        return new Guid(bytes, bigEndian: true).ToString("N");
    }
}
