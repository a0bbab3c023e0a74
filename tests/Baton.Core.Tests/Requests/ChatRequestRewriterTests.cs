using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Requests;

namespace Baton.Core.Tests.Requests;

public sealed class ChatRequestRewriterTests
{
    private static JsonElement Rewrite(string body, string model = "upstream/model:free", RequestDefaults? defaults = null)
    {
        var request = ChatRequestParser.Parse(Encoding.UTF8.GetBytes(body));
        using var rewritten = ChatRequestRewriter.Rewrite(request, model, defaults);
        return JsonDocument.Parse(rewritten.Memory).RootElement.Clone();
    }

    [Fact]
    public void Only_the_model_changes_and_everything_else_is_kept_byte_for_byte()
    {
        const string body = """{ "messages": [{"role":"user","content":"h\u00e9llo \"quoted\""}], "model" : "alias", "x_custom": {"keep": [1, 2.50]} }""";
        var request = ChatRequestParser.Parse(Encoding.UTF8.GetBytes(body));
        using var rewritten = ChatRequestRewriter.Rewrite(request, "real-model", null);

        Assert.Equal(body.Replace("\"alias\"", "\"real-model\"", StringComparison.Ordinal), Encoding.UTF8.GetString(rewritten.Span));
    }

    [Fact]
    public void Streams_ask_upstream_for_usage_when_the_client_did_not()
    {
        var json = Rewrite("""{"model":"a","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.True(json.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal("upstream/model:free", json.GetProperty("model").GetString());
    }

    [Fact]
    public void Existing_stream_options_are_replaced_to_include_usage()
    {
        var json = Rewrite("""{"stream_options":{"include_usage":false},"model":"a","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.True(json.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal("upstream/model:free", json.GetProperty("model").GetString());
    }

    [Fact]
    public void Defaults_fill_only_what_the_client_left_out()
    {
        var defaults = new RequestDefaults { Temperature = 0.3, TopP = 0.9, MaxTokens = 256 };
        var json = Rewrite("""{"model":"a","temperature":1.2,"messages":[{"role":"user","content":"hi"}]}""", defaults: defaults);

        Assert.Equal(1.2, json.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, json.GetProperty("top_p").GetDouble());
        Assert.Equal(256, json.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public void A_client_max_completion_tokens_is_not_overridden_by_a_default_max_tokens()
    {
        var json = Rewrite("""{"model":"a","max_completion_tokens":9,"messages":[{"role":"user","content":"hi"}]}""", defaults: new RequestDefaults { MaxTokens = 256 });
        Assert.False(json.TryGetProperty("max_tokens", out _));
    }
}
