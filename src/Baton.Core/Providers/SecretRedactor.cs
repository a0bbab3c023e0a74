using Baton.Providers.Secrets;

namespace Baton.Providers;

/// <summary>
/// Knows every provider key in use and removes them from any text before it is logged, returned or
/// stored, so that an upstream echoing a key back (some do, in auth errors; a misconfigured proxy may echo
/// the request's headers) cannot leak it.
/// </summary>
/// <remarks>
/// Two strengths, for two kinds of text. Error and log texts (<see cref="Redact"/>) lose every run of
/// <see cref="MinimumFragmentLength"/> or more characters of a key, wherever in the key it comes from, so that
/// an echo cut short (by Baton, the upstream or a proxy) leaks no usable part. Answers (<see cref="Scrub(ReadOnlySpan{byte})"/> and
/// the streams) lose every whole key, in its plain form and as JSON writers escape it, and a key's first
/// <see cref="MinimumFragmentLength"/> or more characters where a text ends (an echo cut by <c>max_tokens</c>):
/// an answer is a model's text, where masking any eight characters that happen to appear in a key would
/// change answers that merely talk about keys.
/// </remarks>
public sealed class SecretRedactor
{
    /// <summary>What replaces a key, or a fragment of one.</summary>
    public const string Mask = "[redacted]";

    /// <summary>
    /// The shortest key accepted, and the shortest fragment of a key that is masked: shorter runs match
    /// ordinary words too often to be masked, and say too little of a key to matter.
    /// </summary>
    public const int MinimumFragmentLength = 8;

    private readonly Lock _gate = new();
    private SecretSet _secrets = SecretSet.Empty;

    /// <summary>True when no key is known: there is nothing to scrub.</summary>
    public bool IsEmpty => Secrets.Keys.Length == 0;

    /// <summary>The keys known now; replaced as a whole when one is added, so readers never lock.</summary>
    internal SecretSet Secrets => Volatile.Read(ref _secrets);

    public void Add(string? secret)
    {
        // Very short values would mask ordinary words; real keys are long.
        if (string.IsNullOrEmpty(secret) || secret.Length < MinimumFragmentLength)
        {
            return;
        }
        lock (_gate)
        {
            if (!_secrets.Keys.Contains(secret, StringComparer.Ordinal))
            {
                Volatile.Write(ref _secrets, new SecretSet([.. _secrets.Keys, secret]));
            }
        }
    }

    /// <summary>
    /// Removes every key, and every run of at least <see cref="MinimumFragmentLength"/> characters taken from one,
    /// from an error or log text.
    /// </summary>
    public string Redact(string text) => Secrets.RedactText(text);

    /// <summary>
    /// Removes every key from an answer's UTF-8 JSON, and a key's beginning where a JSON string or the body ends.
    /// Returns null when there is nothing to remove (the body can be used as it is).
    /// </summary>
    public byte[]? Scrub(ReadOnlySpan<byte> json) => Secrets.ScrubJson(json, cutEchoes: true);

    /// <summary>The answer without keys: the same instance when it holds none.</summary>
    public ProviderCompletion ScrubCompletion(ProviderCompletion completion)
    {
        if (IsEmpty || Scrub(completion.Body.Span) is not { } scrubbed)
        {
            return completion;
        }
        var clean = new ProviderCompletion(scrubbed, completion.Usage) { UpstreamRateLimit = completion.UpstreamRateLimit };
        completion.Dispose();
        return clean;
    }

    /// <summary>The stream with keys removed from its chunks, including keys split across chunks.</summary>
    public ProviderStream ScrubStream(ProviderStream stream) =>
        IsEmpty ? stream : new SecretScrubbingStream(stream, Secrets);
}
