using Baton.Providers;

namespace Baton.Accounting.Ledger;

/// <summary>
/// One row of the ledger: an upstream attempt that billed tokens, or an answer served from Baton's cache.
/// </summary>
public sealed record LedgerEntry
{
    public required DateTimeOffset Time { get; init; }

    /// <summary>
    /// The id of the upstream attempt (or cache hit) this row records, unique to it. The ledger keeps one row per id,
    /// so writing the same row again (a retried write, a batch item's rows delivered again after a crash) bills once.
    /// </summary>
    public string? AttemptId { get; init; }

    /// <summary>The session (<c>X-Baton-Session</c> or <c>metadata.session_id</c>), if any.</summary>
    public string? Session { get; init; }

    /// <summary>The caller's key id (a virtual key's id, <c>master</c>, or without keys a fingerprint of the bearer token), never the key.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The body's <c>user</c>.</summary>
    public string? User { get; init; }

    /// <summary>The project (<c>metadata.project_id</c>), if any.</summary>
    public string? Project { get; init; }

    /// <summary>The request's tags, comma-separated.</summary>
    public string? Tags { get; init; }

    public string? Task { get; init; }

    public string? Tier { get; init; }

    /// <summary>The configured model that answered.</summary>
    public required string Model { get; init; }

    /// <summary>The deployment that answered: <c>provider/upstream-model</c>.</summary>
    public required string Deployment { get; init; }

    public required TokenUsage Usage { get; init; }

    public required decimal CostUsd { get; init; }

    /// <summary>False when no price was known for the deployment (the cost is then 0).</summary>
    public bool Priced { get; init; } = true;

    public double LatencyMs { get; init; }

    /// <summary>True for an answer served from Baton's response cache.</summary>
    public bool Cached { get; init; }

    /// <summary>True when a fallback model answered.</summary>
    public bool Fallback { get; init; }

    /// <summary>200 for an answer; the error status for a stream cut after it billed tokens; 499 when the client left.</summary>
    public int Status { get; init; } = 200;

    /// <summary>True when the provider reported no usage and the tokens were counted by Baton.</summary>
    public bool Estimated { get; init; }

    /// <summary>
    /// True when this row continues a request already billed in an earlier row (the second upstream stream of a
    /// resumed answer): one client request, several billed attempts.
    /// </summary>
    public bool Continuation { get; init; }
}
