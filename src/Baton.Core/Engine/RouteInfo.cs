namespace Baton.Engine;

/// <summary>
/// Who answered a request and how: the model the client named, the provider and deployment that answered,
/// how many attempts it took, and how long the upstream took (the rest of the time is Baton's own).
/// </summary>
public sealed record RouteInfo(
    string Model,
    string Provider,
    string Deployment,
    string UpstreamModel,
    int Attempts,
    TimeSpan UpstreamTime);
