using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;
using OpenAI;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>
/// Every provider type, end to end: the OpenAI SDK talks to the gateway, the gateway talks to the HTTP simulator
/// in the provider's own wire format (OpenAI, GitHub Models, Azure AI Inference, Anthropic, Gemini, Ollama).
/// </summary>
public sealed class ProviderWireFormatTests(MultiProviderGatewayServer gateway) : IClassFixture<MultiProviderGatewayServer>
{
    public static TheoryData<string> Models => MultiProviderGatewayServer.Models;

    /// <summary>The providers that translate the request into another wire format (the others forward it for the upstream to judge).</summary>
    public static TheoryData<string> TranslatedModels => new("anthropic", "gemini", "ollama");

    private ChatClient Client(string model) => new OpenAIClient(
        new ApiKeyCredential("any-client-key"),
        new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(0) }).GetChatClient(model);

    private static ChatTool WeatherTool => ChatTool.CreateFunctionTool("get_weather", "Current weather for a city",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Plain_completion_has_content_finish_reason_usage_and_provider_header(string model)
    {
        var result = await Client(model).CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("What is a gateway?")]);

        var completion = result.Value;
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Contains("What is a gateway?", completion.Content[0].Text);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.True(completion.Usage.OutputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.True(result.GetRawResponse().Headers.TryGetValue("x-baton-provider", out var provider));
        Assert.Equal(MultiProviderGatewayServer.ProviderOf(model), provider);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Streamed_text_equals_the_plain_text_and_usage_arrives_when_asked(string model)
    {
        var messages = new ChatMessage[] { new SystemChatMessage("Be brief."), new UserChatMessage("Tell me about streams.") };
        var plain = (await Client(model).CompleteChatAsync(messages)).Value;

        // The SDK asks for usage in streams (stream_options.include_usage).
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        var updates = 0;
        await foreach (var update in Client(model).CompleteChatStreamingAsync(messages))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.True(updates > 3, "the answer arrives in several chunks");
        Assert.Equal(plain.Content[0].Text, text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(plain.Usage.InputTokenCount, usage!.InputTokenCount);
        Assert.Equal(plain.Usage.OutputTokenCount, usage.OutputTokenCount);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("github")]
    [InlineData("azure")]
    [InlineData("gemini")]
    public async Task Reasoning_tokens_are_counted_the_same_whether_streamed_or_not(string model)
    {
        // Anthropic and Ollama report no separate reasoning count, so only these formats carry one.
        var messages = new ChatMessage[] { new UserChatMessage("Think about streams.") };
        var plain = (await Client(model + "-reasoning").CompleteChatAsync(messages)).Value;
        ChatTokenUsage? streamed = null;
        await foreach (var update in Client(model + "-reasoning").CompleteChatStreamingAsync(messages))
        {
            streamed ??= update.Usage;
        }

        Assert.True(plain.Usage.OutputTokenDetails.ReasoningTokenCount > 0);
        Assert.True(plain.Usage.OutputTokenCount > plain.Usage.OutputTokenDetails.ReasoningTokenCount);
        Assert.NotNull(streamed);
        Assert.Equal(plain.Usage.OutputTokenDetails.ReasoningTokenCount, streamed!.OutputTokenDetails.ReasoningTokenCount);
        Assert.Equal(plain.Usage.OutputTokenCount, streamed.OutputTokenCount);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Stream_without_include_usage_has_no_usage_only_chunk_and_ends_with_done(string model)
    {
        using var content = new StringContent(
            $$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"stream please"}]}""", Encoding.UTF8, "application/json");
        using var response = await gateway.Http.PostAsync("/v1/chat/completions", content);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        var events = (await response.Content.ReadAsStringAsync())
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e[6..] : e)
            .ToList();
        Assert.Equal("[DONE]", events[^1]);
        var finished = false;
        foreach (var chunk in events.SkipLast(1))
        {
            using var json = JsonDocument.Parse(chunk);
            var choice = Assert.Single(json.RootElement.GetProperty("choices").EnumerateArray());
            finished |= choice.TryGetProperty("finish_reason", out var reason) && reason.GetString() == "stop";
        }
        Assert.True(finished);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Forced_tool_call_round_trip(string model)
    {
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];
        var forced = new ChatCompletionOptions { Tools = { WeatherTool }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };

        var first = (await Client(model).CompleteChatAsync(messages, forced)).Value;
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.False(string.IsNullOrEmpty(call.Id));
        using (var arguments = JsonDocument.Parse(call.FunctionArguments.ToString()))
        {
            Assert.Equal(JsonValueKind.String, arguments.RootElement.GetProperty("city").ValueKind);
        }

        messages.Add(new AssistantChatMessage(first.ToolCalls));
        messages.Add(new ToolChatMessage(call.Id, "18 degrees and sunny"));
        var second = (await Client(model).CompleteChatAsync(messages, new ChatCompletionOptions { Tools = { WeatherTool } })).Value;

        Assert.Equal(ChatFinishReason.Stop, second.FinishReason);
        Assert.Contains("18 degrees and sunny", second.Content[0].Text);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Forced_tool_call_streams_as_fragments_that_join_into_valid_json(string model)
    {
        var options = new ChatCompletionOptions { Tools = { WeatherTool }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        var arguments = new StringBuilder();
        string? name = null;
        string? id = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Client(model).CompleteChatStreamingAsync([new UserChatMessage("What is the weather in Paris?")], options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                name ??= part.FunctionName;
                id ??= part.ToolCallId;
                arguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("get_weather", name);
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        using var json = JsonDocument.Parse(arguments.ToString());
        Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("city").ValueKind);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Upstream_429_arrives_as_429_with_retry_after_and_without_the_key(string model)
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client(model + "-429").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(429, error.Status);
        var response = error.GetRawResponse()!;
        Assert.True(response.Headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.Equal("5", retryAfter);
        AssertNoKey(response.Content.ToString(), model);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Upstream_401_arrives_as_an_authentication_error_without_the_key(string model)
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client(model + "-401").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, error.Status);
        var body = error.GetRawResponse()!.Content.ToString();
        using var json = JsonDocument.Parse(body);
        Assert.Equal("authentication_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
        AssertNoKey(body, model);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Upstream_503_arrives_as_503_without_the_key(string model)
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client(model + "-503").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(503, error.Status);
        AssertNoKey(error.GetRawResponse()!.Content.ToString(), model);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Upstream_error_before_a_stream_arrives_as_its_status(string model)
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in Client(model + "-429").CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
            }
        });
        Assert.Equal(429, error.Status);
        AssertNoKey(error.GetRawResponse()!.Content.ToString(), model);
    }

    [Theory]
    [MemberData(nameof(TranslatedModels))]
    public async Task A_message_or_tool_the_provider_cannot_read_is_a_400_in_openai_shape(string model)
    {
        foreach (var body in new[]
        {
            $$"""{"model":"{{model}}","messages":[{"content":"no role"}]}""",
            $$$"""{"model":"{{{model}}}","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"description":"no name"}}]}""",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function"}]}]}""",
        })
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await gateway.Http.PostAsync("/v1/chat/completions", content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == System.Net.HttpStatusCode.BadRequest, $"{body} -> {(int)response.StatusCode} {text}");
            using var json = JsonDocument.Parse(text);
            Assert.Equal("invalid_request_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
        }
    }

    private static void AssertNoKey(string body, string model)
    {
        Assert.DoesNotContain(MultiProviderGatewayServer.KeyOf(MultiProviderGatewayServer.ProviderOf(model)), body);
        Assert.DoesNotContain("secret-key", body);
    }
}
