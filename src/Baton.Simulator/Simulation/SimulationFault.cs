using System.Globalization;

namespace Baton.Simulation;

/// <summary>What can go wrong on purpose in a simulated call.</summary>
public enum SimulationFaultKind
{
    None,
    /// <summary>429 with <c>Retry-After</c>.</summary>
    RateLimited,
    /// <summary>A 5xx status (500 or 503, or any given).</summary>
    ServerError,
    /// <summary>401: as if the key were wrong.</summary>
    Unauthorized,
    /// <summary>Never answers until the caller gives up.</summary>
    Hang,
    /// <summary>The connection is reset without an answer.</summary>
    Reset,
    /// <summary>A stream that stops after <see cref="SimulationFault.Value"/> content chunks, without its end.</summary>
    CutStream,
    /// <summary>A 200 answer whose body is not valid JSON.</summary>
    MalformedJson,
    /// <summary>
    /// A 200 answer whose text repeats the key the simulator received, spelled over several stream chunks, as an
    /// upstream (or a proxy in front of it) that echoes its request's credentials would.
    /// </summary>
    EchoKey,
    /// <summary>
    /// A 401 whose body is plain text, not JSON, about <see cref="SimulatedEcho.ErrorBodyLength"/> characters long,
    /// with the key the simulator received starting at character <see cref="SimulationFault.Value"/>.
    /// </summary>
    EchoKeyInError,
}

/// <summary>
/// A fault requested for one simulated call, from the <c>x-baton-sim-fault</c> header or a model-name suffix
/// after <c>@</c> (e.g. <c>baton-sim-1@429</c>, <c>gpt-4o@cut:3</c>). Forms: <c>429</c>, <c>429:SECONDS</c>,
/// <c>500</c>, <c>503</c>, <c>5xx</c> codes, <c>401</c>, <c>hang</c>, <c>reset</c>, <c>cut:N</c>, <c>malformed</c>,
/// <c>echo-key</c>, <c>echo-key-error</c> and <c>echo-key-error:OFFSET</c> (the key at character OFFSET of the body,
/// 490 by default).
/// </summary>
public readonly record struct SimulationFault(SimulationFaultKind Kind, int Value = 0)
{
    public const string HeaderName = "x-baton-sim-fault";
    public static readonly SimulationFault None = new(SimulationFaultKind.None);

    public static bool TryParse(string? text, out SimulationFault fault)
    {
        fault = None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var parts = text.Trim().ToLowerInvariant().Split(':', 2);
        int? argument = parts.Length == 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
        fault = parts[0] switch
        {
            "429" => new SimulationFault(SimulationFaultKind.RateLimited, argument ?? 1),
            "401" => new SimulationFault(SimulationFaultKind.Unauthorized, 401),
            "hang" => new SimulationFault(SimulationFaultKind.Hang),
            "reset" => new SimulationFault(SimulationFaultKind.Reset),
            "cut" => new SimulationFault(SimulationFaultKind.CutStream, argument ?? 1),
            "malformed" => new SimulationFault(SimulationFaultKind.MalformedJson),
            "echo-key" => new SimulationFault(SimulationFaultKind.EchoKey),
            "echo-key-error" => new SimulationFault(SimulationFaultKind.EchoKeyInError, argument ?? SimulatedEcho.DefaultErrorOffset),
            var code when int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 500 and <= 599
                => new SimulationFault(SimulationFaultKind.ServerError, status),
            _ => None,
        };
        return fault.Kind != SimulationFaultKind.None;
    }

    /// <summary>Splits <c>model@fault</c> into the model and its fault; a model without a suffix has none.</summary>
    public static string StripFromModel(string model, out SimulationFault fault)
    {
        fault = None;
        var at = model.LastIndexOf('@');
        if (at > 0 && TryParse(model[(at + 1)..], out fault))
        {
            return model[..at];
        }
        return model;
    }
}
