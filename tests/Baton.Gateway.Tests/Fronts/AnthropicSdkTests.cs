using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Baton.Gateway.Tests.Auth;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Fronts;

/// <summary>
/// The official Anthropic .NET SDK against <c>/v1/messages</c>, with an Anthropic deployment behind the model (the
/// request forwarded as it came) and an OpenAI-format one (the request translated, the answer translated back).
/// </summary>
public sealed class AnthropicSdkTests(AnthropicGateway server) : IClassFixture<AnthropicGateway>
{
    public static TheoryData<string> Models => new("claude", "gpt");

    private static readonly Tool WeatherTool = new()
    {
        Name = "get_weather",
        Description = "Current weather for a city",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
            Required = ["city"],
        },
    };

    private static MessageCreateParams Ask(string model, string question, string? session = null) => new()
    {
        Model = model,
        MaxTokens = 256,
        System = "Be brief.",
        Messages = [new UserMessageParam { Content = question }],
        Metadata = session is null ? null : new Metadata { UserID = session },
    };

    private static string Text(Message message) =>
        string.Concat(message.Content.Select(b => b.TryPickText(out var text) ? text.Text : ""));

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Plain_message_has_text_stop_reason_and_usage(string model)
    {
        var message = await server.Sdk().Messages.Create(Ask(model, "What is a gateway?"));

        Assert.StartsWith("msg_", message.ID, StringComparison.Ordinal);
        Assert.Contains("What is a gateway?", Text(message));
        Assert.Equal("end_turn", message.StopReason!.Raw());
        Assert.True(message.Usage.InputTokens > 0);
        Assert.True(message.Usage.OutputTokens > 0);
        Assert.Equal(0, message.Usage.CacheReadInputTokens);
    }

    [Fact]
    public async Task An_anthropic_deployment_receives_the_request_as_it_came_with_only_model_and_auth_changed()
    {
        const string Body = """{"model":"claude","max_tokens":300,"top_k":7,"system":[{"type":"text","text":"Be brief, pass-through check.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"Keep my blocks","cache_control":{"type":"ephemeral"}}]}],"metadata":{"user_id":"u-42"}}""";
        using var client = server.Gateway.Client(AuthGateway.MasterKey, apiKeyHeader: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = AuthGateway.Json(Body) };
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "prompt-caching-2024-07-31");
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("p-anthropic", response.Headers.GetValues("x-baton-provider").Single());

        var received = Assert.Single(server.ReceivedWith("/v1/messages", "pass-through check"));
        Assert.Equal(Body.Replace("\"model\":\"claude\"", "\"model\":\"baton-sim-1\"", StringComparison.Ordinal), received.Body);
        Assert.Equal(GatewayServer.Key, received.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", received.Headers["anthropic-version"]);
        Assert.Equal("prompt-caching-2024-07-31", received.Headers["anthropic-beta"]);
        Assert.DoesNotContain(AuthGateway.MasterKey, string.Join(" ", received.Headers.Values));
    }

    [Fact]
    public async Task An_openai_deployment_receives_the_request_translated_to_chat_completions()
    {
        var parameters = Ask("gpt", "Translate me, translation check") with
        {
            StopSequences = ["END"],
            Tools = [WeatherTool],
            ToolChoice = new ToolChoiceAny(),
            Metadata = new Metadata { UserID = "u-7" },
        };
        var message = await server.Sdk().Messages.Create(parameters);
        Assert.Equal("tool_use", message.StopReason!.Raw());

        var received = Assert.Single(server.ReceivedWith("/v1/chat/completions", "translation check"));
        Assert.Equal(GatewayServer.Key, received.Headers["authorization"].Replace("Bearer ", "", StringComparison.Ordinal));
        var body = JsonDocument.Parse(received.Body).RootElement;
        Assert.Equal("baton-sim-1", body.GetProperty("model").GetString());
        Assert.Equal(256, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal("system", body.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal("Be brief.", body.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal("END", body.GetProperty("stop")[0].GetString());
        Assert.Equal("required", body.GetProperty("tool_choice").GetString());
        Assert.Equal("u-7", body.GetProperty("user").GetString());
        var function = body.GetProperty("tools")[0].GetProperty("function");
        Assert.Equal("get_weather", function.GetProperty("name").GetString());
        Assert.Equal("city", function.GetProperty("parameters").GetProperty("required")[0].GetString());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Streamed_text_equals_the_plain_text_and_ends_with_usage(string model)
    {
        var parameters = Ask(model, "Tell me about streams.");
        var plain = await server.Sdk().Messages.Create(parameters);

        var deltas = 0;
        var events = new List<RawMessageStreamEvent>();
        await foreach (var item in server.Sdk().Messages.CreateStreaming(parameters))
        {
            events.Add(item);
            if (item.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out _))
            {
                deltas++;
            }
        }
        var streamed = await events.ToAsyncEnumerable().Aggregate();

        Assert.True(deltas > 3, "the answer arrives in several deltas");
        Assert.Equal(Text(plain), Text(streamed));
        Assert.Equal("end_turn", streamed.StopReason!.Raw());
        Assert.Equal(plain.Usage.InputTokens, streamed.Usage.InputTokens);
        Assert.Equal(plain.Usage.OutputTokens, streamed.Usage.OutputTokens);
        Assert.True(events[^1].TryPickStop(out _), "the stream ends with message_stop");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Tool_use_round_trip(string model)
    {
        var first = await server.Sdk().Messages.Create(Ask(model, "Weather in Paris?") with { Tools = [WeatherTool] });
        Assert.Equal("tool_use", first.StopReason!.Raw());
        var call = first.Content.Select(b => b.TryPickToolUse(out var use) ? use : null).Single(u => u is not null)!;
        Assert.Equal("get_weather", call.Name);
        Assert.Equal(JsonValueKind.String, call.Input["city"].ValueKind);

        var second = await server.Sdk().Messages.Create(FollowUp(model, call));

        Assert.Equal("end_turn", second.StopReason!.Raw());
        Assert.Contains("Sunny, 21 degrees", Text(second));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Tool_use_round_trip_streamed(string model)
    {
        var jsonDeltas = 0;
        var events = new List<RawMessageStreamEvent>();
        await foreach (var item in server.Sdk().Messages.CreateStreaming(Ask(model, "Weather in Oslo?") with { Tools = [WeatherTool] }))
        {
            events.Add(item);
            if (item.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickInputJson(out _))
            {
                jsonDeltas++;
            }
        }
        var first = await events.ToAsyncEnumerable().Aggregate();
        Assert.True(jsonDeltas > 0, "the arguments arrive as input_json_delta events");
        Assert.Equal("tool_use", first.StopReason!.Raw());
        var call = first.Content.Select(b => b.TryPickToolUse(out var use) ? use : null).Single(u => u is not null)!;
        Assert.Equal("get_weather", call.Name);
        Assert.Equal(JsonValueKind.String, call.Input["city"].ValueKind);

        var second = await server.Sdk().Messages.CreateStreaming(FollowUp(model, call)).Aggregate();

        Assert.Equal("end_turn", second.StopReason!.Raw());
        Assert.Contains("Sunny, 21 degrees", Text(second));
    }

    private static MessageCreateParams FollowUp(string model, ToolUseBlock call) => Ask(model, "Weather?") with
    {
        Tools = [WeatherTool],
        Messages =
        [
            new UserMessageParam { Content = "Weather?" },
            new AssistantMessageParam { Content = new List<ContentBlockParam> { new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input } } },
            new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = call.ID, Content = "Sunny, 21 degrees" } } },
        ],
    };

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Count_tokens_asks_an_anthropic_upstream_else_counts_with_the_tokenizer(string model)
    {
        var count = await server.Sdk().Messages.CountTokens(new MessageCountTokensParams
        {
            Model = model,
            System = "Be brief.",
            Messages = [new UserMessageParam { Content = "Count me, count check " + model }],
        });

        Assert.True(count.InputTokens > 0);
        var upstream = server.ReceivedWith("/v1/messages/count_tokens", "count check " + model);
        if (model == "claude")
        {
            Assert.Single(upstream);
            Assert.Contains("\"model\":\"baton-sim-1\"", upstream[0].Body, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(upstream);
        }
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_not_found_error()
    {
        var error = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => server.Sdk().Messages.Create(Ask("no-such-model", "hi")));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("not_found_error", JsonDocument.Parse(error.ResponseBody).RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("no-such-model", error.ResponseBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_key_is_a_401_authentication_error_with_x_api_key_and_with_bearer()
    {
        foreach (var bearer in new[] { false, true })
        {
            var error = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => server.Sdk("sk-wrong-key", bearer).Messages.Create(Ask("claude", "hi")));
            var body = JsonDocument.Parse(error.ResponseBody).RootElement;
            Assert.Equal("error", body.GetProperty("type").GetString());
            Assert.Equal("authentication_error", body.GetProperty("error").GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task A_virtual_key_works_as_bearer_token_too()
    {
        var (_, secret) = await server.Gateway.CreateKeyAsync();
        var message = await server.Sdk(secret, bearer: true).Messages.Create(Ask("claude", "Bearer works?"));
        Assert.Contains("Bearer works?", Text(message));
    }

    [Fact]
    public async Task Thinking_comes_back_signed_plain_and_streamed_and_goes_back_to_anthropic_with_its_signature()
    {
        var parameters = Ask("claude-thinking", "Think first, thinking check") with
        {
            MaxTokens = 4096,
            Thinking = new ThinkingConfigEnabled { BudgetTokens = 2000 },
        };
        var plain = await server.Sdk().Messages.Create(parameters);
        Assert.True(plain.Content[0].TryPickThinking(out var thinking), "the answer begins with its thinking");
        Assert.False(string.IsNullOrEmpty(thinking!.Thinking));
        Assert.StartsWith("sim-signature-", thinking.Signature, StringComparison.Ordinal);
        Assert.Contains("thinking check", Text(plain), StringComparison.Ordinal);

        var thinkingDeltas = 0;
        var events = new List<RawMessageStreamEvent>();
        await foreach (var item in server.Sdk().Messages.CreateStreaming(parameters))
        {
            events.Add(item);
            if (item.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickThinking(out _))
            {
                thinkingDeltas++;
            }
        }
        var streamed = await events.ToAsyncEnumerable().Aggregate();
        Assert.True(thinkingDeltas > 0);
        Assert.True(streamed.Content[0].TryPickThinking(out var streamedThinking));
        Assert.Equal(thinking.Thinking, streamedThinking!.Thinking);
        Assert.Equal(thinking.Signature, streamedThinking.Signature);
        Assert.Equal(Text(plain), Text(streamed));

        // The next turn sends the signed thinking back: the Anthropic deployment receives it as it was.
        var next = parameters with
        {
            Messages =
            [
                new UserMessageParam { Content = "Think first, thinking check" },
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ThinkingBlockParam { Thinking = thinking.Thinking, Signature = thinking.Signature }, new TextBlockParam { Text = Text(plain) } } },
                new UserMessageParam { Content = "And then? second thinking turn" },
            ],
        };
        await server.Sdk().Messages.Create(next);
        var received = Assert.Single(server.ReceivedWith("/v1/messages", "second thinking turn"));
        Assert.Contains(thinking.Signature, received.Body, StringComparison.Ordinal);
    }
}
