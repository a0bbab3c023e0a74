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

    public required HttpClient Http { get; init; }

    public required TimeProvider Time { get; init; }

    /// <summary>Upper bound of one upstream request.</summary>
    public required TimeSpan Timeout { get; init; }

    public required SecretRedactor Redactor { get; init; }
}
