using Baton.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Endpoints;

/// <summary>Writes failures in OpenAI's error shape.</summary>
internal static class ErrorResponses
{
    public static async Task WriteAsync(HttpContext http, BatonException error)
    {
        if (http.Response.HasStarted)
        {
            return;
        }
        http.Response.StatusCode = error.StatusCode;
        http.Response.ContentType = "application/json";
        if (error.RetryAfter is TimeSpan retryAfter)
        {
            http.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        await http.Response.Body.WriteAsync(OpenAiErrorWriter.ToUtf8(error), http.RequestAborted);
    }

    /// <summary>Registers the middleware that answers any escaped exception in OpenAI's error shape.</summary>
    public static async Task HandleUnexpectedAsync(HttpContext http, Func<Task> next)
    {
        try
        {
            await next();
        }
        catch (BatonException ex)
        {
            await WriteAsync(http, ex);
        }
        catch (BadHttpRequestException ex)
        {
            await WriteAsync(http, new BatonException(ex.StatusCode, ErrorTypes.InvalidRequest, ex.Message));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            // A defect of Baton's: answer in the API's shape without exposing internals, and keep the details in the log.
            http.RequestServices.GetService<Microsoft.Extensions.Logging.ILoggerFactory>()?
                .CreateLogger("Baton.Gateway").LogError(ex, "Unhandled error on {Path}", http.Request.Path);
            await WriteAsync(http, new BatonException(StatusCodes.Status500InternalServerError, ErrorTypes.Server,
                "The gateway failed to process the request; the error has been logged.", code: "internal_error"));
        }
    }
}
