namespace Baton.Gateway.Tests.TestSupport;

/// <summary>
/// Waits for a condition that real processes (Redis, PostgreSQL, a gateway) make true in the background: polled every
/// 20 ms for up to ten seconds of real time, for tests that run against real servers, never a fake clock.
/// </summary>
internal static class Poll
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <summary>True as soon as <paramref name="condition"/> holds; false if it still does not after ten seconds.</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(20);
        }
        return await condition();
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}})"/>
    public static Task<bool> UntilAsync(Func<bool> condition) => UntilAsync(() => Task.FromResult(condition()));
}
