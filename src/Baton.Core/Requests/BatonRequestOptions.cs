namespace Baton.Requests;

/// <summary>
/// Everything a request carries besides the OpenAI body: task, session, fallbacks, cache directives, user, project,
/// tags and the caller's identity. One immutable value, merged once from the body's <c>metadata</c>, the
/// gateway's headers (or the library's <c>ChatOptions</c>) and the caller's key, and then carried whole to
/// every attempt: a resumed stream, a cache hit, a batch item or a pipeline step sees exactly the same value.
/// </summary>
public sealed record BatonRequestOptions
{
    /// <summary>No options: every request starts from here.</summary>
    public static BatonRequestOptions Empty { get; } = new();

    /// <summary>The task type (<c>metadata.task</c>, the <c>X-Baton-Task</c> header or <c>baton.task</c>).</summary>
    public string? Task { get; init; }

    /// <summary>The session (<c>metadata.session_id</c>, the <c>X-Baton-Session</c> header or <c>baton.session_id</c>).</summary>
    public string? SessionId { get; init; }

    /// <summary>
    /// Models to fall back to for this request only, in order; replaces the model's configured fallbacks.
    /// </summary>
    public IReadOnlyList<string>? Fallbacks { get; init; }

    /// <summary>What this request allows the cache to do.</summary>
    public CacheDirectives Cache { get; init; } = CacheDirectives.Default;

    /// <summary>The end user (the body's <c>user</c>, else <c>metadata.user_id</c>), for cost tracking and budgets.</summary>
    public string? User { get; init; }

    /// <summary>The project the request is for (<c>metadata.project_id</c> or <c>ChatOptions.WithTracking</c>), for cost tracking.</summary>
    public string? ProjectId { get; init; }

    /// <summary>Tags for budgets and reports.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>
    /// Who pays, for the ledger and per-key budgets: a virtual key's id, <c>master</c>, or (without
    /// authentication) a fingerprint of the bearer token. Never a key itself.
    /// </summary>
    public string? ApiKeyId { get; init; }

    /// <summary>The virtual key the request was made with, whose models, limits and budget apply; null for the master key or without authentication.</summary>
    public Auth.VirtualKey? Key { get; init; }

    /// <summary>
    /// These options where they say something, <paramref name="lower"/>'s elsewhere. The cache directives are
    /// this value's unless they are the default. The identity (key and key id) is never taken from a body, so
    /// callers merge identity in last.
    /// </summary>
    public BatonRequestOptions Over(BatonRequestOptions lower) => new()
    {
        Task = Task ?? lower.Task,
        SessionId = SessionId ?? lower.SessionId,
        Fallbacks = Fallbacks ?? lower.Fallbacks,
        Cache = Cache == CacheDirectives.Default ? lower.Cache : Cache,
        User = User ?? lower.User,
        ProjectId = ProjectId ?? lower.ProjectId,
        Tags = Tags ?? lower.Tags,
        ApiKeyId = ApiKeyId ?? lower.ApiKeyId,
        Key = Key ?? lower.Key,
    };
}
