using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>Every kind of bad input gets a 4xx in OpenAI's error shape naming the parameter at fault; never a 500.</summary>
public sealed class BadInputTests(GatewayServer gateway) : IClassFixture<GatewayServer>
{
    private const string User = """[{"role":"user","content":"hi"}]""";

    public static TheoryData<string, string, int, string?, string> Cases => new()
    {
        // name, body, expected status, expected param, expected code
        { "malformed JSON", """{"model":"gpt-sim","messages":[""", 400, null, "invalid_json" },
        { "not an object", """["gpt-sim"]""", 400, null, "invalid_json" },
        { "trailing garbage", """{"model":"gpt-sim","messages":[{"role":"user","content":"hi"}]} x""", 400, null, "invalid_json" },
        { "empty body", "", 400, null, "invalid_json" },
        { "missing model", """{"messages":[{"role":"user","content":"hi"}]}""", 400, "model", "missing_required_parameter" },
        { "model not a string", """{"model":42,"messages":[{"role":"user","content":"hi"}]}""", 400, "model", "invalid_type" },
        { "missing messages", """{"model":"gpt-sim"}""", 400, "messages", "missing_required_parameter" },
        { "empty messages", """{"model":"gpt-sim","messages":[]}""", 400, "messages", "empty_array" },
        { "messages not an array", """{"model":"gpt-sim","messages":"hi"}""", 400, "messages", "invalid_type" },
        { "message not an object", """{"model":"gpt-sim","messages":["hi"]}""", 400, "messages[0]", "invalid_type" },
        { "missing role", """{"model":"gpt-sim","messages":[{"content":"hi"}]}""", 400, "messages[0].role", "missing_required_parameter" },
        { "unknown role", """{"model":"gpt-sim","messages":[{"role":"robot","content":"hi"}]}""", 400, "messages[0].role", "invalid_value" },
        { "missing content", """{"model":"gpt-sim","messages":[{"role":"user"}]}""", 400, "messages[0].content", "missing_required_parameter" },
        { "content wrong type", """{"model":"gpt-sim","messages":[{"role":"user","content":7}]}""", 400, "messages[0].content", "invalid_type" },
        { "content part without type", """{"model":"gpt-sim","messages":[{"role":"user","content":[{"text":"hi"}]}]}""", 400, "messages[0].content[0].type", "missing_required_parameter" },
        { "tool message without id", """{"model":"gpt-sim","messages":[{"role":"tool","content":"42"}]}""", 400, "messages[0].tool_call_id", "missing_required_parameter" },
        { "temperature too high", $$$"""{"model":"gpt-sim","messages":{{{User}}},"temperature":2.5}""", 400, "temperature", "invalid_value" },
        { "temperature negative", $$$"""{"model":"gpt-sim","messages":{{{User}}},"temperature":-0.1}""", 400, "temperature", "invalid_value" },
        { "temperature a string", $$$"""{"model":"gpt-sim","messages":{{{User}}},"temperature":"hot"}""", 400, "temperature", "invalid_type" },
        { "top_p out of range", $$$"""{"model":"gpt-sim","messages":{{{User}}},"top_p":1.5}""", 400, "top_p", "invalid_value" },
        { "max_tokens zero", $$$"""{"model":"gpt-sim","messages":{{{User}}},"max_tokens":0}""", 400, "max_tokens", "invalid_value" },
        { "max_completion_tokens fractional", $$$"""{"model":"gpt-sim","messages":{{{User}}},"max_completion_tokens":1.5}""", 400, "max_completion_tokens", "invalid_type" },
        { "stream not a boolean", $$$"""{"model":"gpt-sim","messages":{{{User}}},"stream":"yes"}""", 400, "stream", "invalid_type" },
        { "include_usage not a boolean", $$$"""{"model":"gpt-sim","messages":{{{User}}},"stream":true,"stream_options":{"include_usage":1}}""", 400, "stream_options.include_usage", "invalid_type" },
        { "stop with a number", $$$"""{"model":"gpt-sim","messages":{{{User}}},"stop":["a",1]}""", 400, "stop[1]", "invalid_type" },
        { "tool without name", $$$"""{"model":"gpt-sim","messages":{{{User}}},"tools":[{"type":"function","function":{}}]}""", 400, "tools[0].function.name", "missing_required_parameter" },
        { "unknown response format", $$$"""{"model":"gpt-sim","messages":{{{User}}},"response_format":{"type":"xml"}}""", 400, "response_format.type", "invalid_value" },
        { "metadata with an object", """{"model":"gpt-sim","messages":[{"role":"user","content":"hi"}],"metadata":{"a":{"b":1}}}""", 400, "metadata.a", "invalid_type" },
        { "unknown model", $$$"""{"model":"no-such-model","messages":{{{User}}}}""", 404, "model", "model_not_found" },
        { "body over the limit", $$$"""{"model":"gpt-sim","messages":[{"role":"user","content":"{{{new string('x', 70_000)}}}"}]}""", 413, null, "request_too_large" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_gets_a_clear_openai_shaped_4xx(string name, string body, int status, string? param, string code)
    {
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.True((int)response.StatusCode == status, $"{name}: expected {status}, got {(int)response.StatusCode}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        if (param is null)
        {
            Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        }
        else
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }
    }

    [Fact]
    public async Task Unknown_fields_are_passed_through_not_refused()
    {
        var body = $$$"""{"model":"gpt-sim","messages":{{{User}}},"logit_bias":{"50256":-100},"parallel_tool_calls":false,"service_tier":"auto"}""";
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
