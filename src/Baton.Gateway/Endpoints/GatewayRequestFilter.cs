using Baton.Gateway.Telemetry;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// What every request of MapBaton's group goes through before its endpoint, in this order: the request's server
/// span (<see cref="RequestActivity"/>), the answer to any exception that escapes (in the API's error shape), and
/// authentication (<see cref="GatewayAuth"/>). One filter rather than three: each endpoint filter costs every
/// request an async state machine of its own, and the error handler a closure besides. The services it uses come from
/// <see cref="GatewayServices"/>, not from the request's services, so that no request scope is made for them.
/// </summary>
internal sealed class GatewayRequestFilter(GatewayServices services)
{
    public async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        // First, so that everything after it, error answers and authentication included, is inside the request's span.
        var activity = RequestActivity.Start(http, services.Telemetry);
        try
        {
            var refusal = await GatewayAuth.AuthenticateAsync(http, services);
            if (refusal is not null)
            {
                await ErrorResponses.WriteAsync(http, refusal);
                // When the error is answered here, nothing is left for the endpoint's result to write.
                return Results.Empty;
            }
            return await next(context);
        }
        catch (Exception ex) when (ErrorResponses.Answers(http, ex))
        {
            await ErrorResponses.WriteEscapedAsync(http, ex);
            return Results.Empty;
        }
        finally
        {
            RequestActivity.Stop(activity, http);
        }
    }

    /// <summary>
    /// The first of <see cref="FilterAsync"/>'s steps, for an endpoint's own handler that runs them itself (see
    /// <see cref="InlineRequestFilter"/>): the request's server span, null when none is recorded.
    /// </summary>
    public System.Diagnostics.Activity? StartSpan(HttpContext http) => RequestActivity.Start(http, services.Telemetry);

    /// <summary>The second: authentication; the error to answer with, or null when the request may go on.</summary>
    public ValueTask<Baton.Errors.BatonException?> AuthenticateAsync(HttpContext http) => GatewayAuth.AuthenticateAsync(http, services);
}

/// <summary>
/// Marks an endpoint that answers every error with a body of its own (the model endpoints, which read their body
/// themselves and bind no parameters that ASP.NET Core could refuse), so the status-code pages, which would only
/// look at its finished response, are skipped for it.
/// </summary>
internal sealed class WritesErrorBodies
{
    public static readonly WritesErrorBodies Instance = new();
}
