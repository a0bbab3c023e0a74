using System.Net.Http.Headers;

namespace Baton.Cli.Commands;

/// <summary>Asks a running gateway (the <c>--url</c> of several commands), saying plainly when it cannot be reached.</summary>
internal static class GatewayCall
{
    /// <summary>The environment variable holding the master key, for <c>baton keys</c> (and any <c>--url</c> command without <see cref="ApiKeyVariable"/>).</summary>
    public const string MasterKeyVariable = "BATON_MASTER_KEY";

    /// <summary>The environment variable holding a (virtual) key for the <c>--url</c> commands.</summary>
    public const string ApiKeyVariable = "BATON_API_KEY";

    /// <returns>The answer, or null after printing why the gateway could not be reached.</returns>
    /// <param name="console">Where errors are written and the key is read from.</param>
    /// <param name="gateway">The gateway's address.</param>
    /// <param name="call">The request.</param>
    /// <param name="key">The key to send; by default <c>BATON_API_KEY</c>, else <c>BATON_MASTER_KEY</c>, else none.</param>
    public static async Task<T?> SendAsync<T>(CliConsole console, string gateway, Func<HttpClient, Task<T?>> call, string? key = null) where T : class
    {
        using var http = new HttpClient { BaseAddress = new Uri(gateway.TrimEnd('/') + "/") };
        key ??= NonEmpty(console.Environment(ApiKeyVariable)) ?? NonEmpty(console.Environment(MasterKeyVariable));
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        try
        {
            return await call(http);
        }
        catch (HttpRequestException ex)
        {
            console.Error.WriteLine($"baton: could not reach the gateway at {gateway}: {ex.Message}");
            return null;
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
