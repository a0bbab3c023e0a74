namespace Baton.Auth;

/// <summary>
/// A key handed to a caller, with what it may do: the models it may name, its request, token and
/// concurrency limits, its budget and its expiry. The secret itself is never part of it: the store keeps
/// only the secret's hash, and the secret is shown once, when the key is created.
/// </summary>
public sealed record VirtualKey
{
    /// <summary>The key's public id (<c>key_…</c>): in the ledger, in reports and in the admin API.</summary>
    public required string Id { get; init; }

    /// <summary>A name for people (in the admin API, <c>baton keys</c> and rate-limit errors); null for none. Not unique.</summary>
    public string? Name { get; init; }

    /// <summary>The model names the key may use; null for all.</summary>
    public IReadOnlyList<string>? Models { get; init; }

    /// <summary>Requests per minute.</summary>
    public int? Rpm { get; init; }

    /// <summary>Tokens (prompt and completion) per minute.</summary>
    public int? Tpm { get; init; }

    /// <summary>Requests in flight at once.</summary>
    public int? MaxParallel { get; init; }

    /// <summary>The most the key may spend in US dollars per <see cref="BudgetPeriod"/>.</summary>
    public decimal? BudgetUsd { get; init; }

    /// <summary><c>total</c>, <c>daily</c> or <c>monthly</c> (UTC calendar windows).</summary>
    public string BudgetPeriod { get; init; } = Configuration.BudgetPeriods.Total;

    /// <summary>When the key stops working (refused as unknown from then on); null for never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The owner's own labels, shown back as given; null for none. They do not change what the key may do.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>The caller's own metadata, a JSON object kept as given.</summary>
    public string? MetadataJson { get; init; }

    /// <summary>The secret's prefix and last four characters (<c>bk-…a1b2</c>), to tell keys apart; never enough to use one.</summary>
    public required string Hint { get; init; }

    /// <summary>When the key was created, on the gateway's clock.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the key was revoked (refused from then on, kept for the ledger's reports); null while it is not.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>True when the key may be used at <paramref name="now"/>: not revoked and not expired.</summary>
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is not { } expires || now < expires);

    /// <summary>True when the key may use the model named <paramref name="model"/>.</summary>
    public bool Allows(string model) => Models is null || Models.Contains(model, StringComparer.OrdinalIgnoreCase);
}

/// <summary>Who made a request: the master key, or a virtual key.</summary>
public sealed record CallerIdentity(VirtualKey? Key)
{
    /// <summary>The id the ledger records for the master key.</summary>
    public const string MasterId = "master";

    /// <summary>The holder of the master key: every model, no key limits, and every caller's objects.</summary>
    public static CallerIdentity Master { get; } = new((VirtualKey?)null);

    /// <summary>True for the master key (no virtual key).</summary>
    public bool IsMaster => Key is null;

    /// <summary>The ledger's and the stores' name for the caller: the virtual key's id, or <c>master</c>.</summary>
    public string Id => Key?.Id ?? MasterId;

    /// <summary>True when this caller may see what <paramref name="owner"/> created (the master key sees everything).</summary>
    public bool Owns(string? owner) => IsMaster || string.Equals(owner, Id, StringComparison.Ordinal);
}
