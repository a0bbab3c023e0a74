using System.Security.Cryptography;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>Ids in OpenAI's style: a prefix and 48 random hexadecimal digits, unguessable (a response id is all a caller needs to read one without keys).</summary>
internal static class ResponseIds
{
    public static string Response() => New("resp_");

    public static string Message() => New("msg_");

    public static string FunctionCall() => New("fc_");

    /// <summary>The id of a function call output item sent by the caller without one.</summary>
    public static string FunctionCallOutput() => New("fco_");

    private static string New(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}
