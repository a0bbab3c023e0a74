namespace Baton.Cli.Commands;

/// <summary>Asks a running gateway (the <c>--url</c> of several commands), saying plainly when it cannot be reached.</summary>
internal static class GatewayCall
{
    /// <returns>The answer, or null after printing why the gateway could not be reached.</returns>
    public static async Task<T?> SendAsync<T>(CliConsole console, string gateway, Func<HttpClient, Task<T?>> call) where T : class
    {
        using var http = new HttpClient { BaseAddress = new Uri(gateway.TrimEnd('/') + "/") };
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
}
