namespace Baton.Providers;

/// <summary>What the translating stream classes share: reading the upstream's next event or line.</summary>
internal static class UpstreamStreamReader
{
    /// <summary>
    /// Advances to the upstream's next event or line. A broken connection, or a line longer than the reader
    /// accepts, is a <c>stream_interrupted</c> error whose message has every key removed.
    /// </summary>
    public static async ValueTask<bool> MoveNextAsync<T>(IAsyncEnumerator<T> events, string provider, SecretRedactor redactor)
    {
        try
        {
            return await events.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidDataException)
        {
            throw UpstreamErrors.StreamInterrupted(provider, redactor.Redact(ex.Message));
        }
    }
}
