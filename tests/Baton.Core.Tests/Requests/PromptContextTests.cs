using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Requests;

namespace Baton.Core.Tests.Requests;

/// <summary><c>metadata.context</c>: named background rendered into the prompt, and taken out of the metadata.</summary>
public sealed class PromptContextTests
{
    private static JsonObject Sent(ChatRequest request) => JsonNode.Parse(request.Body.Span)!.AsObject();

    [Fact]
    public void An_object_context_is_rendered_ahead_of_the_last_user_message_and_removed_from_metadata()
    {
        var request = ChatRequestParser.Parse(Encoding.UTF8.GetBytes("""
            {"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Earlier"},
              {"role":"assistant","content":"Ok"},{"role":"user","content":"Add error handling to this function"}],
             "metadata":{"task":"code_generation","context":{"existing_code":"def f(x):\n    return 1 / x","project_structure":["models/","views/"],"framework":"FastAPI"}}}
            """));

        var sent = Sent(request);
        Assert.Equal("code_generation", request.Task);
        Assert.False(sent["metadata"]!.AsObject().ContainsKey("context"));
        var messages = sent["messages"]!.AsArray();
        Assert.Equal("Earlier", (string?)messages[1]!["content"]);
        var prompt = (string)messages[3]!["content"]!;
        Assert.StartsWith("Context:\n", prompt, StringComparison.Ordinal);
        Assert.EndsWith("\n\nAdd error handling to this function", prompt, StringComparison.Ordinal);
        Assert.Contains("### existing_code\n```\ndef f(x):\n    return 1 / x\n```", prompt, StringComparison.Ordinal);
        Assert.Contains("- framework: FastAPI\n", prompt, StringComparison.Ordinal);
        Assert.Contains("\"models/\"", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void A_context_sent_as_a_json_string_by_an_sdk_works_and_empty_metadata_is_dropped()
    {
        var request = ChatRequestParser.Parse(Encoding.UTF8.GetBytes("""
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Write tests"}]}],
             "metadata":{"context":"{\"testing\":\"pytest\"}"}}
            """));

        var sent = Sent(request);
        Assert.False(sent.ContainsKey("metadata"));
        var parts = sent["messages"]![0]!["content"]!.AsArray();
        Assert.Equal("Context:\n- testing: pytest\n\n", (string?)parts[0]!["text"]);
        Assert.Equal("Write tests", (string?)parts[1]!["text"]);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"context":42}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"context":"not json"}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":"x"}],"metadata":{"context":{"a":"b"}}}""")]
    public void A_context_that_cannot_be_rendered_is_a_400_naming_it(string body)
    {
        var error = Assert.Throws<BatonException>(() => ChatRequestParser.Parse(Encoding.UTF8.GetBytes(body)));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("metadata.context", error.Param);
    }

    [Fact]
    public async Task The_upstream_receives_the_rendered_prompt()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");

        await harness.CompleteAsync(EngineHarness.Request("m", metadata: ""","metadata":{"context":{"language":"C#"}}"""));

        var body = JsonNode.Parse(Assert.Single(harness.Provider("a").Requests).Chat.Body.Span)!;
        Assert.Equal("Context:\n- language: C#\n\nhello", (string?)body["messages"]![0]!["content"]);
    }
}
