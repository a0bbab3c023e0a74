using Baton.Client;
using Baton.Errors;
using Baton.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Core.Tests.Client;

/// <summary>Baton as an IChatClient registered from an appsettings-style "Baton" section.</summary>
public sealed class BatonChatClientTests : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public BatonChatClientTests()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Baton:Providers:sim:Type"] = "simulator",
            ["Baton:Models:Assistant:Deployments:0:Provider"] = "sim",
            ["Baton:Models:Assistant:Deployments:0:Model"] = "baton-sim-1",
            ["Baton:Models:Thinker:Deployments:0:Provider"] = "sim",
            ["Baton:Models:Thinker:Deployments:0:Model"] = "baton-sim-reasoning-1",
            ["Baton:Models:Flaky:Deployments:0:Provider"] = "sim",
            ["Baton:Models:Flaky:Deployments:0:Model"] = "baton-sim-1@500",
            ["Baton:Resilience:MaxRetries"] = "0",
            ["Baton:Tiers:fast:Models:0"] = "Thinker",
        }).Build();
        _services = new ServiceCollection().AddBaton(configuration).AddBatonSimulator().BuildServiceProvider();
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    private IChatClient Client => _services.GetRequiredService<IChatClient>();

    [Fact]
    public async Task A_call_may_name_a_task_and_its_own_fallbacks()
    {
        var routed = await Client.GetResponseAsync("Title this bug.", new ChatOptions
        {
            ModelId = "auto",
            AdditionalProperties = new() { [BatonRequestProperties.Task] = "generate_title" },
        });
        Assert.Equal("Thinker", routed.AdditionalProperties![BatonResponseProperties.Model]);
        Assert.Equal("fast", routed.AdditionalProperties[BatonResponseProperties.Tier]);

        var rescued = await Client.GetResponseAsync("Hello?", new ChatOptions
        {
            ModelId = "flaky",
            AdditionalProperties = new() { [BatonRequestProperties.Fallbacks] = new[] { "assistant" } },
        });
        Assert.Equal(true, rescued.AdditionalProperties![BatonResponseProperties.FallbackUsed]);
        Assert.Equal("Assistant", rescued.AdditionalProperties[BatonResponseProperties.Model]);
        Assert.Equal("Flaky", rescued.AdditionalProperties[BatonResponseProperties.RequestedModel]);
        Assert.Equal(2, rescued.AdditionalProperties[BatonResponseProperties.Attempts]);
    }

    [Fact]
    public async Task A_call_may_give_context_for_the_prompt()
    {
        var options = new ChatOptions { ModelId = "assistant" }
            .WithContext(new Dictionary<string, object?> { ["framework"] = "FastAPI" })
            .WithContext(new Dictionary<string, object?> { ["testing"] = "pytest" })
            .WithTracking(userId: "developer_123", projectId: "aurelis");

        var response = await Client.GetResponseAsync("Write it", options);

        // The simulator quotes the prompt it was given: the context came first.
        Assert.Contains("\"Context: - framework: FastAPI - testing: pytest  Write it\"", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Response_says_who_answered_with_usage_and_time()
    {
        var response = await Client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Name a colour.")],
            new ChatOptions { ModelId = "assistant" });

        Assert.Contains("Name a colour.", response.Text);
        Assert.Equal("baton-sim-1", response.ModelId);
        Assert.Equal("sim", response.AdditionalProperties![BatonResponseProperties.Provider]);
        Assert.Equal("sim/baton-sim-1", response.AdditionalProperties[BatonResponseProperties.Deployment]);
        Assert.Equal("Assistant", response.AdditionalProperties[BatonResponseProperties.Model]);
        Assert.Equal(1, response.AdditionalProperties[BatonResponseProperties.Attempts]);
        Assert.True((double)response.AdditionalProperties[BatonResponseProperties.ProcessingTimeMs]! >= 0);
        Assert.IsType<decimal>(response.AdditionalProperties[BatonResponseProperties.CostUsd]);
        Assert.True(response.Usage!.InputTokenCount > 0);
        Assert.True(response.Usage.OutputTokenCount > 0);
    }

    [Fact]
    public async Task Reasoning_tokens_reach_the_usage_details()
    {
        var response = await Client.GetResponseAsync("Think hard.", new ChatOptions { ModelId = "thinker" });
        Assert.True(response.Usage!.ReasoningTokenCount > 0);
    }

    [Fact]
    public async Task Streaming_gives_the_same_text_and_the_route_at_the_end()
    {
        var options = new ChatOptions { ModelId = "assistant" };
        var plain = await Client.GetResponseAsync("Stream a sentence.", options);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in Client.GetStreamingResponseAsync("Stream a sentence.", options))
        {
            updates.Add(update);
        }
        var streamed = updates.ToChatResponse();

        Assert.True(updates.Count > 5);
        Assert.Equal(plain.Text, streamed.Text);
        Assert.Equal("sim", streamed.AdditionalProperties![BatonResponseProperties.Provider]);
        Assert.Equal(plain.Usage!.OutputTokenCount, streamed.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task The_default_model_is_used_when_none_is_named()
    {
        var response = await Client.GetResponseAsync("hello");
        Assert.Equal("Assistant", response.AdditionalProperties![BatonResponseProperties.Model]);
    }

    [Fact]
    public async Task Failures_surface_as_typed_baton_errors()
    {
        var error = await Assert.ThrowsAsync<BatonException>(() => Client.GetResponseAsync("hi", new ChatOptions { ModelId = "flaky" }));
        Assert.Equal(500, error.UpstreamStatus);
        Assert.Equal("sim", error.Provider);

        var unknown = await Assert.ThrowsAsync<BatonException>(() => Client.GetResponseAsync("hi", new ChatOptions { ModelId = "nope" }));
        Assert.Equal("model_not_found", unknown.Code);
    }
}
