namespace Baton.Requests;

/// <summary>
/// The canonical request envelope: the client's OpenAI Chat Completions JSON, untouched, plus the few
/// fields that routing, limits and accounting need, read once by <see cref="ChatRequestParser"/>.
/// Upstream bodies are produced from <see cref="Body"/> by splicing (see <see cref="ChatRequestRewriter"/>),
/// never by re-serialising it.
/// </summary>
public sealed class ChatRequest
{
    internal ChatRequest(ReadOnlyMemory<byte> body, string model)
    {
        Body = body;
        Model = model;
    }

    /// <summary>The client's JSON body, exactly as received.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The model name the client asked for.</summary>
    public string Model { get; }

    /// <summary>
    /// The request as the client sent it, when it came in another wire format than Chat Completions; a provider that
    /// speaks that format forwards it instead of translating <see cref="Body"/>. Null for Chat Completions requests.
    /// </summary>
    public NativeRequest? Native { get; set; }

    /// <summary>True when the client asked for a stream of server-sent events (<c>"stream": true</c>).</summary>
    public bool Stream { get; internal set; }

    /// <summary>Whether the client asked for the final usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; internal set; }

    /// <summary>
    /// Task, session, fallbacks, cache directives, user, project, tags and identity, as one immutable value: replaced
    /// whole, never edited in place, so every attempt of the request sees the same options.
    /// </summary>
    public BatonRequestOptions Options { get; set; } = BatonRequestOptions.Empty;

    /// <summary>The task type (see <see cref="BatonRequestOptions.Task"/>).</summary>
    public string? Task => Options.Task;

    /// <summary>The session (see <see cref="BatonRequestOptions.SessionId"/>).</summary>
    public string? SessionId => Options.SessionId;

    /// <summary>Models to fall back to for this request only (see <see cref="BatonRequestOptions.Fallbacks"/>).</summary>
    public IReadOnlyList<string>? Fallbacks => Options.Fallbacks;

    /// <summary>What this request allows the cache to do (from <c>Cache-Control</c>, metadata and headers).</summary>
    public CacheDirectives Cache => Options.Cache;

    /// <summary>When set, only this route is asked, without fallbacks (a batch item names its provider).</summary>
    internal Routing.ModelRoute? Pinned { get; set; }

    /// <summary>
    /// When set, the request's ledger rows are collected here instead of being queued to the ledger's writer: a
    /// batch item stores them with its answer in one transaction, and delivers them to the ledger from there.
    /// </summary>
    internal System.Collections.Concurrent.ConcurrentQueue<Accounting.Ledger.LedgerEntry>? LedgerRows { get; set; }

    /// <summary>The <c>user</c> field of the body (else <c>metadata.user_id</c>): the end user, for cost tracking and budgets.</summary>
    public string? User => Options.User;

    /// <summary>Who pays (see <see cref="BatonRequestOptions.ApiKeyId"/>): never a key itself.</summary>
    public string? ApiKeyId => Options.ApiKeyId;

    /// <summary>The project the request is for (see <see cref="BatonRequestOptions.ProjectId"/>).</summary>
    public string? ProjectId => Options.ProjectId;

    /// <summary>Tags for budgets and reports, from <c>metadata.tags</c> or the <c>X-Baton-Tags</c> header (comma-separated).</summary>
    public IReadOnlyList<string>? Tags => Options.Tags;

    /// <summary>How many messages the <c>messages</c> array holds.</summary>
    public int MessageCount { get; internal set; }

    /// <summary>Characters of text content in the prompt: the basis of token estimates.</summary>
    public int PromptCharacters { get; internal set; }

    /// <summary>The most completion tokens the client allows (<c>max_tokens</c> or <c>max_completion_tokens</c>); null when it sets none.</summary>
    public int? MaxTokens { get; internal set; }

    /// <summary>The prompt's tokens once counted by <see cref="Accounting.PromptTokenCounter"/>.</summary>
    internal int? PromptTokens { get; set; }

    /// <summary>How to count the prompt when the body is not a chat body (an embeddings request's inputs); null for a chat body.</summary>
    internal Func<CancellationToken, int>? CountPromptTokens { get; init; }

    /// <summary>True when the request offers tools (a non-null <c>tools</c> array), which a deployment must support.</summary>
    public bool HasTools { get; internal set; }

    internal bool HasTemperature { get; set; }
    internal bool HasTopP { get; set; }
    internal bool HasMaxTokens => MaxTokens is not null;

    /// <summary>Byte range of the <c>model</c> string token, quotes included.</summary>
    internal Range ModelToken { get; set; }

    /// <summary>Byte range of the <c>stream_options</c> value, if present.</summary>
    internal Range? StreamOptionsToken { get; set; }

    /// <summary>Byte range of the <c>stream</c> boolean token, if present.</summary>
    internal Range? StreamToken { get; set; }

    /// <summary>
    /// Byte range of the <c>messages</c> array, for the prompt counter to read without walking the body again; null when
    /// unknown (a body not read by <see cref="ChatRequestParser"/>, or one that gives <c>messages</c> or <c>tools</c> twice).
    /// </summary>
    internal Range? MessagesToken { get; init; }

    /// <summary>Byte range of the <c>tools</c> value, if present (see <see cref="MessagesToken"/>).</summary>
    internal Range? ToolsToken { get; init; }

    /// <summary>Index of the closing bracket of the <c>messages</c> array.</summary>
    internal int MessagesEndIndex { get; set; }

    /// <summary>Index of the body's closing brace.</summary>
    internal int ClosingBraceIndex { get; set; }

    /// <summary>Splits a comma-separated list of model names; null when it names none.</summary>
    public static IReadOnlyList<string>? SplitModelList(string? list)
    {
        var names = list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return names is { Length: > 0 } ? names : null;
    }
}

/// <summary>
/// A request's say over the cache: <c>Cache-Control: no-cache</c> skips the lookup but stores the answer,
/// <c>no-store</c> (or <c>metadata.cache_disabled</c>) does neither, and a TTL of its own overrides the model's.
/// </summary>
public sealed record CacheDirectives(bool Lookup = true, bool Store = true, TimeSpan? Ttl = null)
{
    /// <summary>What a request that says nothing about the cache allows: look up, store, with the model's TTL.</summary>
    public static readonly CacheDirectives Default = new();

    /// <summary>
    /// The longest TTL a request may ask for, in seconds: 2^31 - 1 (about 68 years), the largest age HTTP caches are
    /// required to handle (RFC 9111). An answer's expiry stays far inside what a date can hold.
    /// </summary>
    public const int MaxTtlSeconds = int.MaxValue;

    /// <summary>Whether <paramref name="seconds"/> is a TTL a request may ask for: more than 0, at most <see cref="MaxTtlSeconds"/> (NaN is not).</summary>
    public static bool IsValidTtl(double seconds) => seconds > 0 && seconds <= MaxTtlSeconds;

    /// <summary>Reads a <c>Cache-Control</c> header value: <c>no-cache</c>, <c>no-store</c> and <c>max-age=N</c> (as the TTL).</summary>
    public CacheDirectives WithCacheControl(string? header)
    {
        var result = this;
        foreach (var directive in (header ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (directive.Equals("no-cache", StringComparison.OrdinalIgnoreCase))
            {
                result = result with { Lookup = false };
            }
            else if (directive.Equals("no-store", StringComparison.OrdinalIgnoreCase))
            {
                result = result with { Lookup = false, Store = false };
            }
            else if (directive.StartsWith("max-age=", StringComparison.OrdinalIgnoreCase) && directive.Length > 8 && !directive.AsSpan(8).ContainsAnyExceptInRange('0', '9'))
            {
                // RFC 9111: an age too large to hold is read as the largest one (2^31 - 1 seconds here).
                var seconds = int.TryParse(directive.AsSpan(8), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : MaxTtlSeconds;
                result = result with { Ttl = TimeSpan.FromSeconds(seconds) };
            }
        }
        return result;
    }
}
