using Baton.Configuration;

namespace Baton.Providers;

/// <summary>Everything a provider needs to reach its upstream, resolved once at start-up.</summary>
public sealed class ProviderContext
{
    public required string Name { get; init; }

    public required ProviderOptions Options { get; init; }

    /// <summary>The base URL without a trailing slash.</summary>
    public required string BaseUrl { get; init; }

    /// <summary>The key read from the environment variable named by <c>apiKeyEnv</c>; null when none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// <c>Bearer</c> and the key, as the <c>Authorization</c> header's value; null without a key. Made once: a typed header
    /// value would be a new object per request, formatted into a new string again as the request goes out.
    /// </summary>
    internal string? BearerAuthorization => ApiKey is null ? null : _bearer ??= "Bearer " + ApiKey;

    private string? _bearer;

    /// <summary>
    /// The shared connection pool. An <see cref="HttpMessageInvoker"/>, as YARP uses, rather than an
    /// <see cref="HttpClient"/>: Baton sets its own timeouts and reads every response as a stream, so the
    /// client's extra cancellation source and layer per request would buy nothing.
    /// </summary>
    public required HttpMessageInvoker Http { get; init; }

    public required TimeProvider Time { get; init; }

    /// <summary>Upper bound of one upstream request.</summary>
    public required TimeSpan Timeout { get; init; }

    public required SecretRedactor Redactor { get; init; }
}
