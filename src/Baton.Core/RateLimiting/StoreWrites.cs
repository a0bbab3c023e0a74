namespace Baton.RateLimiting;

/// <summary>
/// Writes to a store that nothing waits for: corrections after an answer, pauses and headroom learned from the
/// upstream. They are not on the request's path; an in-process store completes them at once, a shared store in
/// the background. A store handles its own failures (see its fail mode), so an exception here is only observed.
/// </summary>
internal static class StoreWrites
{
    public static void Forget(ValueTask write)
    {
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult();
            return;
        }
        _ = Observe(write.AsTask());
    }

    private static async Task Observe(Task write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Best effort by design: the store has logged and counted the failure.
        }
    }
}
