using Baton.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Endpoints;

/// <summary>Writes failures in OpenAI's error shape (in Anthropic's on the endpoints of Anthropic's API).</summary>
internal static class ErrorResponses
{
    public static async Task WriteAsync(HttpContext http, BatonException error)
    {
        if (http.Response.HasStarted)
        {
            return;
        }
        // The endpoint's own API decides the shape, so that a refusal before the endpoint runs (a bad key) reads the same.
        var anthropic = http.GetEndpoint()?.Metadata.GetMetadata<Fronts.Anthropic.AnthropicErrorShape>() is not null;
        http.Response.StatusCode = anthropic ? Fronts.Anthropic.AnthropicErrors.Status(error) : error.StatusCode;
        http.Response.ContentType = "application/json";
        if (error.RetryAfter is TimeSpan retryAfter)
        {
            http.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var body = anthropic ? Fronts.Anthropic.AnthropicErrors.ToUtf8(error) : OpenAiErrorWriter.ToUtf8(error);
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }

    /// <summary>
    /// Gives an error that the server or routing answered without a body (no endpoint: 404; another method: 405; a
    /// media type an endpoint does not accept: 415; ...) the body of OpenAI's error shape. Runs from the status-code
    /// pages middleware, only for a response that has not started and has no body of its own.
    /// </summary>
    public static Task WriteStatusPageAsync(HttpContext http)
    {
        var status = http.Response.StatusCode;
        var request = http.Request;
        var error = status switch
        {
            StatusCodes.Status404NotFound => new BatonException(status, ErrorTypes.InvalidRequest,
                $"Invalid URL ({request.Method} {request.Path}): this gateway has no such endpoint.", null, "unknown_url"),
            StatusCodes.Status405MethodNotAllowed => new BatonException(status, ErrorTypes.InvalidRequest,
                $"Method {request.Method} is not allowed on {request.Path}" +
                (http.Response.Headers.Allow is { Count: > 0 } allow ? $"; allowed: {allow}." : "."), null, "method_not_allowed"),
            StatusCodes.Status415UnsupportedMediaType => RequestBodies.UnsupportedMediaType(request.ContentType, RequestBodies.JsonMediaType),
            _ => new BatonException(status, status >= 500 ? ErrorTypes.Server : ErrorTypes.InvalidRequest,
                $"{ReasonPhrases.GetReasonPhrase(status)} ({request.Method} {request.Path}).", null, null),
        };
        return WriteAsync(http, error);
    }

    /// <summary>
    /// Whether an exception that escaped an endpoint is answered here (by <see cref="WriteEscapedAsync"/>): Baton's
    /// own errors and bad requests always, a client that went away (nothing is written), and any other exception
    /// while the response has not started. A failure after the answer started is left to the server, which cuts it.
    /// </summary>
    public static bool Answers(HttpContext http, Exception exception) => exception switch
    {
        BatonException or BadHttpRequestException => true,
        OperationCanceledException when http.RequestAborted.IsCancellationRequested => true,
        _ => !http.Response.HasStarted,
    };

    /// <summary>Answers an exception that <see cref="Answers"/> accepted in the API's error shape.</summary>
    public static Task WriteEscapedAsync(HttpContext http, Exception exception)
    {
        switch (exception)
        {
            case BatonException ex:
                return WriteAsync(http, ex);
            case BadHttpRequestException ex:
                return WriteAsync(http, new BatonException(ex.StatusCode, ErrorTypes.InvalidRequest, ex.Message));
            case OperationCanceledException when http.RequestAborted.IsCancellationRequested:
                // The client went away; there is no one to answer.
                return Task.CompletedTask;
            default:
                // A defect of Baton's: answer in the API's shape without exposing internals, and keep the details in the log.
                http.RequestServices.GetService<ILoggerFactory>()?
                    .CreateLogger("Baton.Gateway").LogError(exception, "Unhandled error on {Path}", http.Request.Path);
                return WriteAsync(http, new BatonException(StatusCodes.Status500InternalServerError, ErrorTypes.Server,
                    "The gateway failed to process the request; the error has been logged.", code: "internal_error"));
        }
    }
}
