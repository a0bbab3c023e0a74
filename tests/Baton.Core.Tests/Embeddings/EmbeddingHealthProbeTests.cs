using Baton.Configuration;
using Baton.Embeddings;
using Baton.Errors;
using Baton.Providers;
using Baton.Resilience;
using Baton.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Embeddings;

/// <summary>An embeddings deployment is probed with an embeddings request, a chat deployment with a chat request.</summary>
public sealed class EmbeddingHealthProbeTests
{
    /// <summary>A provider whose upstream model answers only what it is for, as a real embeddings or chat model does.</summary>
    private sealed class OneKindProvider(string name, bool embeds) : IChatProvider, IEmbeddingProvider
    {
        public int Chats;
        public int Embeds;

        public string Name => name;

        public string Type => ProviderTypes.OpenAi;

        public Task<ProviderCompletion> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Chats);
            return embeds
                ? throw new BatonException(404, ErrorTypes.Upstream, "This is not a chat model.") { Provider = name, UpstreamStatus = 404 }
                : Task.FromResult(new ProviderCompletion("""{"choices":[{"message":{"content":"pong"},"finish_reason":"stop"}]}"""u8.ToArray(), TokenUsage.Of(1, 1)));
        }

        public Task<ProviderStream> StreamAsync(ProviderRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ProviderEmbeddings> EmbedAsync(EmbeddingProviderRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Embeds);
            return embeds
                ? Task.FromResult(new ProviderEmbeddings([[1f, 0f]], 1))
                : throw new BatonException(404, ErrorTypes.Upstream, "This is not an embeddings model.") { Provider = name, UpstreamStatus = 404 };
        }
    }

    [Fact]
    public async Task Each_deployment_is_probed_with_the_kind_of_request_it_serves()
    {
        var options = new BatonOptions();
        options.Providers["e"] = new ProviderOptions { Type = ProviderTypes.OpenAi };
        options.Providers["c"] = new ProviderOptions { Type = ProviderTypes.OpenAi };
        options.Models["embed"] = new ModelOptions { Kind = ModelKinds.Embeddings, Deployments = [new DeploymentOptions { Provider = "e", Model = "text-embedding-3-small" }] };
        options.Models["chat"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "c", Model = "gpt-4o-mini" }] };
        var providers = new Dictionary<string, OneKindProvider> { ["e"] = new("e", embeds: true), ["c"] = new("c", embeds: false) };
        var time = new FakeTimeProvider();
        var report = new HealthReport(new ModelCatalog(options, (name, _) => providers[name], time), time);

        var results = await report.CheckAsync(probe: true, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Probe!.Ok, r.Probe.Error));
        Assert.Equal((0, 1), (providers["e"].Chats, providers["e"].Embeds));
        Assert.Equal((1, 0), (providers["c"].Chats, providers["c"].Embeds));
    }
}
