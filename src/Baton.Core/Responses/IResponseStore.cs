namespace Baton.Responses;

/// <summary>
/// Where the Responses API front keeps responses created with <c>store</c>. The embedded store is SQLite; a shared
/// one serves many gateways. Ownership is checked by the caller of the store, from <see cref="StoredResponse.Owner"/>;
/// retention is applied by the caller too: a store keeps what it is given until it is deleted or purged.
/// </summary>
public interface IResponseStore
{
    /// <summary>Keeps a response; a response with the same id is replaced.</summary>
    ValueTask SaveAsync(StoredResponse response, CancellationToken cancellationToken);

    /// <summary>The response with this id; null when there is none.</summary>
    ValueTask<StoredResponse?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes the response with this id; false when there was none.</summary>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes every response created before <paramref name="createdBefore"/>; returns how many.</summary>
    ValueTask<int> PurgeAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken);
}
