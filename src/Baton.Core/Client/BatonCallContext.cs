using Baton.Engine;

namespace Baton.Client;

/// <summary>
/// Carries the route of one library call from the in-process transport back to <see cref="BatonChatClient"/>,
/// across the OpenAI SDK that sits between them. The client puts a fresh holder in place before each call;
/// the transport, running in the same asynchronous flow, fills it in.
/// </summary>
internal sealed class BatonCallContext
{
    private static readonly AsyncLocal<BatonCallContext?> CurrentHolder = new();

    public static BatonCallContext? Current
    {
        get => CurrentHolder.Value;
        set => CurrentHolder.Value = value;
    }

    public Func<RouteInfo>? RouteSource { get; set; }

    public RouteInfo? Route => RouteSource?.Invoke();
}
