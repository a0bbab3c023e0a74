using System.Text.Json;
using Baton.Errors;
using Baton.Providers.OpenAi;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>Marks an endpoint whose errors are answered in Anthropic's shape rather than OpenAI's.</summary>
internal sealed class AnthropicErrorShape
{
    public static readonly AnthropicErrorShape Instance = new();
}

/// <summary>
/// Baton's failures (its own refusals and the upstreams') in Anthropic's error shape,
/// <c>{"type":"error","error":{"type","message"}}</c>, with the status Anthropic uses for each kind. Baton's code,
/// parameter and provider are kept beside Anthropic's fields: SDKs ignore them, people reading the error need them.
/// </summary>
internal static class AnthropicErrors
{
    /// <summary>The status Anthropic answers a failure of this kind with.</summary>
    public static int Status(BatonException error) => error.StatusCode switch
    {
        // Anthropic answers an unavailable service with its own 529 "overloaded".
        503 or 529 => 529,
        504 => 504,
        >= 500 => 500,
        422 => 400,
        var status => status,
    };

    /// <summary>Anthropic's error type for a status it answers with.</summary>
    public static string Type(int status) => status switch
    {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    public static void Write(Utf8JsonWriter writer, BatonException error)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "error");
        writer.WriteStartObject("error");
        writer.WriteString("type", Type(Status(error)));
        writer.WriteString("message", error.Message);
        if (error.Code is not null)
        {
            writer.WriteString("code", error.Code);
        }
        if (error.Param is not null)
        {
            writer.WriteString("param", error.Param);
        }
        if (error.Provider is not null)
        {
            writer.WriteString("provider", error.Provider);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static byte[] ToUtf8(BatonException error)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            Write(writer, error);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
