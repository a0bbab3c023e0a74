using System.ClientModel;
using Baton.Gateway.Tests.TestSupport;
using OpenAI;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>The gateway as the official OpenAI .NET SDK sees it, over real HTTP.</summary>
public sealed class OpenAiSdkTests(GatewayServer gateway) : IClassFixture<GatewayServer>
{
    private ChatClient Client(string model) => new OpenAIClient(
        new ApiKeyCredential("any-client-key"),
        new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") }).GetChatClient(model);

    [Theory]
    [InlineData("gpt-sim", "sim-http")]
    [InlineData("LOCAL-SIM", "sim-local")]
    public async Task Plain_completion_has_openai_shape_usage_and_route_headers(string model, string provider)
    {
        var result = await Client(model).CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("What is a gateway?")]);

        var completion = result.Value;
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Contains("What is a gateway?", completion.Content[0].Text);
        Assert.Equal("baton-sim-1", completion.Model);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);

        var headers = result.GetRawResponse().Headers;
        Assert.True(headers.TryGetValue("x-baton-provider", out var answeredBy));
        Assert.Equal(provider, answeredBy);
        Assert.True(headers.TryGetValue("x-baton-deployment", out var deployment));
        Assert.Equal(provider + "/baton-sim-1", deployment);
        Assert.True(headers.TryGetValue("x-baton-overhead-ms", out var overhead));
        Assert.True(double.Parse(overhead!, System.Globalization.CultureInfo.InvariantCulture) >= 0);
    }

    [Fact]
    public async Task Streamed_completion_matches_the_plain_one_and_ends_with_usage()
    {
        var messages = new ChatMessage[] { new UserChatMessage("Tell me about streams.") };
        var plain = (await Client("gpt-sim").CompleteChatAsync(messages)).Value;

        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        var updates = 0;
        await foreach (var update in Client("gpt-sim").CompleteChatStreamingAsync(messages))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.True(updates > 5, "the answer arrives in several chunks");
        Assert.Equal(plain.Content[0].Text, text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(plain.Usage.OutputTokenCount, usage!.OutputTokenCount);
    }

    [Theory]
    [InlineData("gpt-sim")]
    [InlineData("local-sim")]
    public async Task Tool_call_round_trip(string model)
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "Current weather for a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];

        var first = (await Client(model).CompleteChatAsync(messages, options)).Value;
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Contains("city", call.FunctionArguments.ToString());

        messages.Add(new AssistantChatMessage(first.ToolCalls));
        messages.Add(new ToolChatMessage(call.Id, "18 degrees and sunny"));
        var second = (await Client(model).CompleteChatAsync(messages, options)).Value;

        Assert.Equal(ChatFinishReason.Stop, second.FinishReason);
        Assert.Contains("18 degrees and sunny", second.Content[0].Text);
    }

    [Fact]
    public async Task Streamed_tool_call_arrives_in_fragments_that_join_into_valid_json()
    {
        var tool = ChatTool.CreateFunctionTool("lookup", "Looks something up",
            BinaryData.FromString("""{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer"}}}"""));
        var arguments = new System.Text.StringBuilder();
        string? name = null;
        await foreach (var update in Client("gpt-sim").CompleteChatStreamingAsync([new UserChatMessage("find it")], new ChatCompletionOptions { Tools = { tool } }))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                name ??= part.FunctionName;
                arguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }
        }
        Assert.Equal("lookup", name);
        using var json = System.Text.Json.JsonDocument.Parse(arguments.ToString());
        Assert.Equal(1, json.RootElement.GetProperty("limit").GetInt32());
    }

    [Fact]
    public async Task Unknown_model_is_a_404_the_sdk_reports()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client("no-such-model").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, error.Status);
        Assert.Contains("no-such-model", error.Message);
    }

    [Fact]
    public async Task Upstream_rate_limit_reaches_the_sdk_as_429_without_the_key()
    {
        var client = new OpenAIClient(new ApiKeyCredential("k"), new OpenAIClientOptions
        {
            Endpoint = new Uri(gateway.BaseUrl + "/v1"),
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
        }).GetChatClient("limited-sim");
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(429, error.Status);
        var body = error.GetRawResponse()!.Content.ToString();
        Assert.Contains("\"provider\":\"sim-http\"", body);
        Assert.DoesNotContain(GatewayServer.Key, body);
        Assert.True(error.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.Equal("5", retryAfter);
    }

    [Fact]
    public async Task A_failing_deployment_hands_over_to_the_next_one()
    {
        var result = await Client("failover-sim").CompleteChatAsync([new UserChatMessage("hello")]);
        var headers = result.GetRawResponse().Headers;
        Assert.True(headers.TryGetValue("x-baton-provider", out var provider));
        Assert.Equal("sim-local", provider);
        Assert.True(headers.TryGetValue("x-baton-attempts", out var attempts));
        Assert.Equal("2", attempts);
    }
}
