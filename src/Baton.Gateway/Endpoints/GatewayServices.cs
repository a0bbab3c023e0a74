using Baton.Auth;
using Baton.Configuration;
using Baton.Engine;
using Baton.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// The application's singletons that every request of <c>MapBaton</c>'s model endpoints uses (the options, the key
/// ring, the telemetry, the engine, the clock), taken from the application's own services once each rather than
/// from <c>HttpContext.RequestServices</c>. The first read of <c>RequestServices</c> in a request creates a
/// dependency-injection scope, registers it for disposal when the response completes and disposes it then: work and
/// allocations for every request, when everything these endpoints use is a singleton that the scope would only
/// hand back from the root.
/// </summary>
/// <remarks>
/// Each service is resolved on its first use, not when the endpoints are mapped, so that mapping the gateway does not
/// build the engine (or fail for a service an application does not register) earlier than a request would. Two
/// requests racing on the first use resolve the same singleton twice; either copy is kept.
/// </remarks>
internal sealed class GatewayServices(IServiceProvider services)
{
    private BatonOptions? _options;
    private KeyRing? _keys;
    private BatonEngine? _engine;
    private TimeProvider? _time;
    private Resolved<BatonTelemetry?>? _telemetry;

    public BatonOptions Options => _options ??= services.GetRequiredService<BatonOptions>();

    /// <summary>The key ring; registered only when keys are configured (<c>auth.masterKeyEnv</c>).</summary>
    public KeyRing Keys => _keys ??= services.GetRequiredService<KeyRing>();

    public BatonEngine Engine => _engine ??= services.GetRequiredService<BatonEngine>();

    public TimeProvider Time => _time ??= services.GetRequiredService<TimeProvider>();

    /// <summary>Baton's traces and metrics; null when the application registers none (remembered, not asked again).</summary>
    public BatonTelemetry? Telemetry => (_telemetry ??= new Resolved<BatonTelemetry?>(services.GetService<BatonTelemetry>())).Value;

    /// <summary>A service looked up once, absent ones included.</summary>
    private sealed record Resolved<T>(T Value);
}
