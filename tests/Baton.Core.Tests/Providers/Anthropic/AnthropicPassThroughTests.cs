using System.Text;
using Baton.Errors;
using Baton.Providers.Anthropic;

namespace Baton.Core.Tests.Providers.Anthropic;

/// <summary>The body an Anthropic deployment receives for a request that came in Anthropic's format.</summary>
public sealed class AnthropicPassThroughTests
{
    private static string Rewrite(string body, string model, bool? stream) =>
        Encoding.UTF8.GetString(AnthropicPassThrough.Rewrite(Encoding.UTF8.GetBytes(body), model, stream));

    [Fact]
    public void Only_the_model_changes_and_everything_else_keeps_its_bytes()
    {
        const string Body = "{ \"top_k\" : 5,\n \"model\":\"claude\", \"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"model\",\"cache_control\":{\"type\":\"ephemeral\"}}]}],\"stream\":false}";
        Assert.Equal(Body.Replace("\"claude\"", "\"claude-sonnet-4-5\"", StringComparison.Ordinal), Rewrite(Body, "claude-sonnet-4-5", stream: false));
    }

    [Fact]
    public void The_attempts_mode_replaces_the_clients_stream_flag_or_is_added()
    {
        Assert.Equal("""{"model":"u","stream":true}""", Rewrite("""{"model":"m","stream":false}""", "u", stream: true));
        Assert.Equal("""{"stream":true,"model":"u","max_tokens":1}""", Rewrite("""{"model":"m","max_tokens":1}""", "u", stream: true));
        Assert.Equal("""{"model":"u","max_tokens":1}""", Rewrite("""{"model":"m","max_tokens":1}""", "u", stream: false));
        Assert.Equal("""{"model":"u","stream":true}""", Rewrite("""{"model":"m","stream":true}""", "u", stream: null));
    }

    [Fact]
    public void The_model_is_written_as_a_json_string()
    {
        var body = System.Text.Json.JsonDocument.Parse(Rewrite("""{"model":"m"}""", "a\"b", stream: null)).RootElement;
        Assert.Equal("a\"b", body.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""{"max_tokens":1}""")]
    [InlineData("""{"model":""")]
    public void A_body_without_a_model_is_refused(string body)
    {
        var error = Assert.Throws<BatonException>(() => Rewrite(body, "u", stream: true));
        Assert.Equal(400, error.StatusCode);
    }
}
