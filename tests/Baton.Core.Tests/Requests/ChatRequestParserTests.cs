using System.Text;
using Baton.Errors;
using Baton.Requests;

namespace Baton.Core.Tests.Requests;

public sealed class ChatRequestParserTests
{
    private static ChatRequest Parse(string json) => ChatRequestParser.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_what_routing_and_accounting_need()
    {
        var request = Parse("""
            {"model":"Gpt-Sim","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":50,
             "metadata":{"task":"code_generation","session_id":"s-1","other":"x"},
             "messages":[{"role":"developer","content":"Be exact."},
                         {"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},
                         {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
                         {"role":"tool","tool_call_id":"c1","content":"42"}],
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}
            """);

        Assert.Equal("Gpt-Sim", request.Model);
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
        Assert.Equal(50, request.MaxTokens);
        Assert.Equal("code_generation", request.Task);
        Assert.Equal("s-1", request.SessionId);
        Assert.Equal(4, request.MessageCount);
        Assert.Equal("Be exact.".Length + "abcd".Length + "42".Length, request.PromptCharacters);
        Assert.True(request.HasTools);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":2}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"top_p":1}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":null,"stop":null,"seed":7,"user":"u"}""")]
    public void Accepts_boundary_and_null_values(string json) => Assert.NotNull(Parse(json));

    [Fact]
    public void A_model_asked_for_again_is_the_same_string_and_an_escaped_one_is_decoded()
    {
        const string body = """{"model":"parser-shared-model","messages":[{"role":"user","content":"hi"}]}""";

        var first = Parse(body).Model;
        var again = Parse(body).Model;
        var escaped = Parse("""{"model":"parser-\u0073hared-model","messages":[{"role":"user","content":"hi"}]}""").Model;

        Assert.Equal("parser-shared-model", first);
        Assert.Same(first, again);
        Assert.Equal(first, escaped);
    }

    [Fact]
    public void Rejections_are_400s_naming_the_parameter()
    {
        var error = Assert.Throws<BatonException>(() => Parse("""{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"user","content":{"x":1}}]}"""));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("messages[1].content", error.Param);
        Assert.Equal("invalid_request_error", error.Type);
    }
}
