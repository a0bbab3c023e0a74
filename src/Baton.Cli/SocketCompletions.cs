namespace Baton.Cli;

/// <summary>
/// Has the runtime run each socket's continuation on the thread that saw the socket ready, instead of queueing it to
/// the thread pool (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>). A gateway is all socket continuations: every
/// request waits on its caller's socket and its upstream's, and the hop through the pool's queue (a wake-up, often a
/// context switch) cost about a tenth of the gateway's CPU per request.
/// </summary>
/// <remarks>
/// It is safe where no continuation blocks its thread: a blocked socket thread stalls every socket it serves. Baton
/// awaits every network call and reads only local files synchronously; the test suite runs with the setting on, so a
/// blocking wait that creeps in shows as a hang there. The runtime reads the variable once, with the process's first
/// socket, so the <c>baton</c> process sets it before anything else runs. A value already in the environment wins:
/// <c>0</c> turns it off.
/// </remarks>
internal static class SocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Sets <see cref="Variable"/> to <c>1</c> unless the environment gives it a value; whether it did.</summary>
    public static bool PreferInline(Func<string, string?> read, Action<string, string> write)
    {
        if (!string.IsNullOrEmpty(read(Variable)))
        {
            return false;
        }
        write(Variable, "1");
        return true;
    }
}
