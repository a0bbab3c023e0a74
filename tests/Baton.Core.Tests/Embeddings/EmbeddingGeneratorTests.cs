using Baton.Client;
using Baton.Errors;
using Baton.Hosting;
using Baton.Simulation;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Core.Tests.Embeddings;

/// <summary>The library's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, registered next to the chat client.</summary>
public sealed class EmbeddingGeneratorTests : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public EmbeddingGeneratorTests()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Baton:Providers:sim:Type"] = "simulator",
            ["Baton:Models:Assistant:Deployments:0:Provider"] = "sim",
            ["Baton:Models:Assistant:Deployments:0:Model"] = "baton-sim-1",
            ["Baton:Models:Embedder:Kind"] = "embeddings",
            ["Baton:Models:Embedder:Deployments:0:Provider"] = "sim",
            ["Baton:Models:Embedder:Deployments:0:Model"] = "text-embedding-3-small",
            ["Baton:Models:Flaky:Kind"] = "embeddings",
            ["Baton:Models:Flaky:Deployments:0:Provider"] = "sim",
            ["Baton:Models:Flaky:Deployments:0:Model"] = "text-embedding-3-small@503",
            ["Baton:Models:Flaky:Fallbacks:0"] = "Embedder",
            ["Baton:Resilience:MaxRetries"] = "0",
            ["Baton:Cache:Mode"] = "on",
            ["Baton:Cache:Store"] = "memory",
            ["Baton:Ledger:Enabled"] = "false",
        }).Build();
        _services = new ServiceCollection().AddBaton(configuration).AddBatonSimulator().BuildServiceProvider();
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    private IEmbeddingGenerator<string, Embedding<float>> Generator => _services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

    [Fact]
    public async Task Texts_become_the_simulated_vectors_with_usage_and_route()
    {
        var result = await Generator.GenerateAsync(["first text", "second text"], new EmbeddingGenerationOptions { Dimensions = 32 });

        Assert.Equal(2, result.Count);
        Assert.Equal(SimulatedEmbedding.Vector("first text", 32), result[0].Vector.ToArray());
        Assert.Equal(SimulatedEmbedding.Vector("second text", 32), result[1].Vector.ToArray());
        Assert.Equal("text-embedding-3-small", result[0].ModelId);
        Assert.Equal(4, result.Usage!.InputTokenCount);
        Assert.Equal("Embedder", result.AdditionalProperties![BatonResponseProperties.Model]);
        Assert.Equal("sim/text-embedding-3-small", result.AdditionalProperties[BatonResponseProperties.Deployment]);
        Assert.Equal(false, result.AdditionalProperties[BatonResponseProperties.Cached]);

        var again = await Generator.GenerateAsync(["first text", "second text"], new EmbeddingGenerationOptions { Dimensions = 32 });
        Assert.Equal(true, again.AdditionalProperties![BatonResponseProperties.Cached]);
        Assert.Equal(result[1].Vector.ToArray(), again[1].Vector.ToArray());
    }

    [Fact]
    public async Task A_call_names_its_model_and_the_default_is_the_first_embeddings_model()
    {
        Assert.Equal("Embedder", Generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
        Assert.Equal("Assistant", _services.GetRequiredService<BatonChatClient>().DefaultModel);

        var rescued = await Generator.GenerateAsync(["rescue"], new EmbeddingGenerationOptions { ModelId = "flaky" });
        Assert.Equal(true, rescued.AdditionalProperties![BatonResponseProperties.FallbackUsed]);
        Assert.Equal(SimulatedEmbedding.Vector("rescue", 1536), rescued[0].Vector.ToArray());

        var refused = await Assert.ThrowsAsync<BatonException>(() => Generator.GenerateAsync(["hi"], new EmbeddingGenerationOptions { ModelId = "assistant" }));
        Assert.Equal("wrong_model_kind", refused.Code);
        var empty = await Assert.ThrowsAsync<BatonException>(() => Generator.GenerateAsync([""]));
        Assert.Equal("input", empty.Param);
    }
}
