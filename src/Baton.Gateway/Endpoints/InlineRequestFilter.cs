using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// Runs <see cref="GatewayRequestFilter"/> inside one endpoint's handler rather than as an endpoint filter, whenever
/// the endpoint ends up with no other filter. ASP.NET Core then calls the handler directly: no filter invocation
/// context and argument array, and none of the async adapters that the filter pipeline puts around the filter, the
/// handler and the result it executes afterwards, for every request of the busiest endpoint.
/// </summary>
/// <remarks>
/// When an application adds filters of its own to <c>MapBaton()</c>'s endpoints, the request filter stays an endpoint
/// filter, so that it still runs first, as on every other endpoint: the application's filters see an authenticated
/// caller, inside the request's span. Which case applies is settled when the endpoint is built: ASP.NET Core applies
/// filter factories from the innermost (the endpoint's own, added last) to the outermost (the group's, added first),
/// and skips the filter pipeline altogether when every factory hands back the handler's invocation unchanged.
/// </remarks>
/// <param name="filter">The request filter.</param>
/// <param name="endpoint">The endpoint's handler, given the request filter when it is to run the filter's steps itself.</param>
internal sealed class InlineRequestFilter(GatewayRequestFilter filter, Func<HttpContext, GatewayRequestFilter?, Task> endpoint)
{
    // The handler's own invocation, as the endpoint's innermost factory was given it; set while the endpoint is built.
    private EndpointFilterDelegate? _innermost;
    private bool _inline;

    /// <summary>Whether the request filter runs in the handler (no other filter on the endpoint).</summary>
    public bool RunsInline => _inline;

    /// <summary>The endpoint's handler: the request filter's steps around the endpoint, or the endpoint alone when the filter pipeline runs them.</summary>
    public Task HandleAsync(HttpContext http) => endpoint(http, _inline ? filter : null);

    /// <summary>Added to the endpoint itself, so that it is applied first: notes the handler's invocation before any other filter wraps it.</summary>
    public EndpointFilterDelegate MarkInnermost(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        _innermost = next;
        _inline = false;
        return next;
    }

    /// <summary>
    /// The group's filter factory, for every endpoint of the group: hands back this endpoint's invocation unchanged
    /// when nothing has wrapped it (the handler then runs the filter), and wraps any other in the request filter.
    /// </summary>
    public EndpointFilterDelegate Apply(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        if (_innermost is not null && ReferenceEquals(next, _innermost))
        {
            _inline = true;
            return next;
        }
        return invocation => filter.FilterAsync(invocation, next);
    }
}
