using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.Ollama;

namespace Baton.Core.Tests.Providers.Ollama;

public sealed class OllamaResponseTranslatorTests
{
    private static (JsonElement Root, TokenUsage Usage) Translate(byte[] ollamaJson)
    {
        using var completion = OllamaResponseTranslator.Translate("test-ollama", ollamaJson, "fallback-model", TimeProvider.System, new SecretRedactor());
        return (JsonDocument.Parse(completion.Body).RootElement.Clone(), completion.Usage);
    }

    private static byte[] Edited(string fixture, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(ProviderFixtures.Text("ollama", fixture))!.AsObject();
        edit(json);
        return System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    [Fact]
    public void The_documented_answer_becomes_a_chat_completion()
    {
        var (root, usage) = Translate(ProviderFixtures.Bytes("ollama", "chat-response.json"));

        Assert.StartsWith("chatcmpl-", root.GetProperty("id").GetString());
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal("gemma4", root.GetProperty("model").GetString());
        Assert.Equal(DateTimeOffset.Parse("2025-10-17T23:14:07Z").ToUnixTimeSeconds(), root.GetProperty("created").GetInt64());
        var choice = root.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("Hello! How can I help you today?", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(TokenUsage.Of(11, 18), usage);
        Assert.Equal(29, root.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void A_tool_call_gets_an_id_json_text_arguments_and_finish_reason_tool_calls()
    {
        var (root, usage) = Translate(ProviderFixtures.Bytes("ollama", "chat-response-tool-call.json"));

        var choice = root.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("call_0", call.GetProperty("id").GetString());
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_current_weather", call.GetProperty("function").GetProperty("name").GetString());
        var arguments = call.GetProperty("function").GetProperty("arguments");
        Assert.Equal(JsonValueKind.String, arguments.ValueKind);
        using var parsed = JsonDocument.Parse(arguments.GetString()!);
        Assert.Equal("Paris, FR", parsed.RootElement.GetProperty("location").GetString());
        Assert.Equal("celsius", parsed.RootElement.GetProperty("format").GetString());
        Assert.Equal(TokenUsage.Of(122, 33), usage);
    }

    [Fact]
    public void A_prompt_count_left_out_because_the_prompt_was_cached_counts_as_zero()
    {
        var (_, usage) = Translate(Edited("chat-response.json", json => json.Remove("prompt_eval_count")));
        Assert.Equal(TokenUsage.Of(0, 18), usage);
    }

    [Fact]
    public void Thinking_becomes_reasoning_content_and_done_reason_length_becomes_length()
    {
        var (root, _) = Translate(Edited("chat-response.json", json =>
        {
            json["message"]!["thinking"] = "The user greets me.";
            json["done_reason"] = "length";
        }));

        var choice = root.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("The user greets me.", choice.GetProperty("message").GetProperty("reasoning_content").GetString());
    }

    [Fact]
    public void An_error_body_sent_with_status_200_is_an_upstream_error()
    {
        var error = Assert.Throws<BatonException>(() => Translate(ProviderFixtures.Bytes("ollama", "error.json")));
        Assert.Equal(502, error.StatusCode);
        Assert.Contains("the model failed to generate a response", error.Message);
    }
}
