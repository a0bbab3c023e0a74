namespace Baton.Configuration;

/// <summary>
/// Responses kept by the OpenAI Responses API front (<c>POST /v1/responses</c> with <c>store</c>), so that
/// <c>previous_response_id</c> can continue a conversation and <c>GET /v1/responses/{id}</c> can read one back.
/// See docs/apis.md.
/// </summary>
public sealed class ResponsesOptions
{
    /// <summary>
    /// How long a stored response is kept, in days (fractions allowed): older ones are no longer found and are purged
    /// in the background. Default 30, as OpenAI keeps them.
    /// </summary>
    public double RetentionDays { get; set; } = DefaultRetentionDays;

    /// <summary>The SQLite file holding stored responses; the ledger's file when not set.</summary>
    public string? Path { get; set; }

    /// <summary>The store's file: <see cref="Path"/>, else the ledger's.</summary>
    public string DatabasePath(BatonOptions options) => System.IO.Path.GetFullPath(Path ?? options.Ledger.Path);

    /// <summary>How long a stored response is kept.</summary>
    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    /// <summary>How many days a stored response is kept when <c>responses.retentionDays</c> is not set.</summary>
    public const double DefaultRetentionDays = 30;

    /// <summary>The longest retention accepted: ten years.</summary>
    public const double MaxRetentionDays = 3650;
}
