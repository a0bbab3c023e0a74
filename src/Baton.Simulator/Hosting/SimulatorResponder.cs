using System.Globalization;
using System.Text.Json;
using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Gateway.Simulation;

/// <summary>
/// Answers one simulated request over HTTP in a given wire format: paces it as configured (overridable per
/// request with <c>x-baton-sim-latency-ms</c>, <c>x-baton-sim-ttft-ms</c> and <c>x-baton-sim-tps</c>, and its
/// length with <c>x-baton-sim-words</c>), and
/// injects the fault asked for with <c>x-baton-sim-fault</c> or a <c>@fault</c> model suffix.
/// </summary>
internal static class SimulatorResponder
{
    /// <summary>
    /// Reads the request's body with <paramref name="read"/>; a body it cannot read is answered with a 400 in the
    /// format's error shape, whose message is <paramref name="invalidMessage"/> followed by the reason, and gives null.
    /// </summary>
    public static async Task<SimulatedPrompt?> ReadPromptAsync(HttpContext http, ISimulatorWireFormat format, Func<byte[], SimulatedPrompt> read, string invalidMessage)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        try
        {
            return read(buffer.ToArray());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            await WriteErrorAsync(http, format, StatusCodes.Status400BadRequest, invalidMessage + ex.Message);
            return null;
        }
    }

    public static async Task WriteErrorAsync(HttpContext http, ISimulatorWireFormat format, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(format.RenderError(status, message), http.RequestAborted);
    }

    /// <summary>Answers <paramref name="prompt"/>, with the fault its model's <c>@fault</c> suffix or the fault header asks for.</summary>
    public static async Task RespondAsync(HttpContext http, SimulatedPrompt prompt, ISimulatorWireFormat format, SimulatorBehavior defaults)
    {
        var aborted = http.RequestAborted;
        var time = http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
        prompt.Model = SimulationFault.StripFromModel(prompt.Model, out var fault);
        if (SimulationFault.TryParse(http.Request.Headers[SimulationFault.HeaderName], out var headerFault))
        {
            fault = headerFault;
        }
        var behavior = ReadBehavior(http.Request, defaults);
        var pacer = new SimulationPacer(behavior, time);
        var answer = SimulatedModel.Answer(prompt, time, behavior.AnswerWords);
        if (fault.Kind == SimulationFaultKind.EchoKey)
        {
            answer = SimulatedEcho.WithKey(answer, ReceivedKey(http.Request));
        }

        if (await FailIfAskedAsync(http, fault, format, pacer))
        {
            return;
        }

        if (!prompt.Stream)
        {
            await pacer.WholeAnswerAsync(answer.Usage.CompletionTokens, aborted);
            http.Response.ContentType = "application/json";
            var body = fault.Kind == SimulationFaultKind.MalformedJson
                ? "{\"id\":\"broken\",\"choices\":[{"u8.ToArray()
                : format.RenderCompletion(answer);
            await http.Response.Body.WriteAsync(body, aborted);
            return;
        }

        http.Response.ContentType = format.StreamContentType;
        http.Response.Headers.CacheControl = "no-cache";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await http.Response.StartAsync(aborted);
        await pacer.BeforeFirstTokenAsync(aborted);

        var content = 0;
        foreach (var (frame, kind) in format.RenderStream(answer))
        {
            if (kind == SimulatedChunkKind.Content)
            {
                if (fault.Kind == SimulationFaultKind.CutStream && content == fault.Value)
                {
                    // End the body in the middle of the answer, without its closing events, as an upstream
                    // or a proxy in front of it does when it gives up. (Resetting the connection instead
                    // would let the client's kernel discard chunks already sent; the 'reset' fault covers that.)
                    await http.Response.Body.FlushAsync(aborted);
                    return;
                }
                if (fault.Kind == SimulationFaultKind.MalformedJson && content == 1)
                {
                    await http.Response.Body.WriteAsync(format.MalformedFrame, aborted);
                    await http.Response.Body.FlushAsync(aborted);
                    return;
                }
                if (content > 0)
                {
                    await pacer.BetweenTokensAsync(aborted);
                }
                content++;
            }
            await http.Response.Body.WriteAsync(frame, aborted);
            await http.Response.Body.FlushAsync(aborted);
        }
    }

    /// <summary>
    /// Answers with the fault asked for, if it is one that replaces the answer (a status, a hang, a reset), and
    /// says whether it did; the faults that damage an answer (a cut stream, malformed JSON) are left to the caller.
    /// </summary>
    public static async Task<bool> FailIfAskedAsync(HttpContext http, SimulationFault fault, ISimulatorWireFormat format, SimulationPacer pacer)
    {
        var aborted = http.RequestAborted;
        switch (fault.Kind)
        {
            case SimulationFaultKind.RateLimited:
                http.Response.Headers.RetryAfter = fault.Value.ToString(CultureInfo.InvariantCulture);
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.ContentType = "application/json";
                await http.Response.Body.WriteAsync(format.RenderRateLimit("Rate limit reached (simulated).", fault.Value), aborted);
                return true;
            case SimulationFaultKind.ServerError:
                await WriteErrorAsync(http, format, fault.Value, "Internal error (simulated).");
                return true;
            case SimulationFaultKind.Unauthorized:
                await WriteErrorAsync(http, format, 401, "Invalid API key (simulated).");
                return true;
            case SimulationFaultKind.EchoKeyInError:
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                http.Response.ContentType = "text/plain; charset=utf-8";
                await http.Response.WriteAsync(SimulatedEcho.ErrorBody(ReceivedKey(http.Request), fault.Value), aborted);
                return true;
            case SimulationFaultKind.Hang:
                await pacer.HangAsync(aborted);
                return true;
            case SimulationFaultKind.Reset:
                http.Abort();
                return true;
        }
        return false;
    }

    private static readonly string[] KeyHeaders = ["x-api-key", "api-key", "x-goog-api-key"];

    /// <summary>The key the request carried, wherever its provider puts it (bearer token, <c>x-api-key</c>, <c>api-key</c>, <c>x-goog-api-key</c>, <c>?key=</c>).</summary>
    private static string ReceivedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }
        foreach (var header in KeyHeaders)
        {
            if (request.Headers[header].ToString() is { Length: > 0 } key)
            {
                return key;
            }
        }
        return request.Query["key"].ToString() is { Length: > 0 } query ? query : SimulatedEcho.NoKey;
    }

    /// <summary>The longest answer a request may ask for (about 6 MB of text): a bound for a test tool that listens only on loopback.</summary>
    private const int MaxAnswerWords = 1_000_000;

    internal static SimulatorBehavior ReadBehavior(HttpRequest request, SimulatorBehavior defaults)
    {
        var behavior = defaults.Clone();
        if (ReadDouble(request, "x-baton-sim-latency-ms") is double latency) behavior.LatencyMs = latency;
        if (ReadDouble(request, "x-baton-sim-ttft-ms") is double ttft) behavior.TimeToFirstTokenMs = ttft;
        if (ReadDouble(request, "x-baton-sim-tps") is double tps) behavior.TokensPerSecond = tps;
        if (ReadDouble(request, "x-baton-sim-words") is double words) behavior.AnswerWords = (int)Math.Min(words, MaxAnswerWords);
        return behavior;
    }

    private static double? ReadDouble(HttpRequest request, string header) =>
        double.TryParse(request.Headers[header], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 ? value : null;
}
