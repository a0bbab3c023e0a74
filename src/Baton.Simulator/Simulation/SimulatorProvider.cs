using System.Runtime.CompilerServices;
using Baton.Configuration;
using Baton.Embeddings;
using Baton.Errors;
using Baton.Providers;
using Baton.Simulation.Wire;

namespace Baton.Simulation;

/// <summary>
/// Provider type <c>simulator</c>: a simulated model in the same process, answering in OpenAI's format with
/// the pacing of <see cref="SimulatorBehavior"/>. A fault can be asked for with a suffix on the deployment's
/// model id (e.g. <c>baton-sim-1@503</c>, <c>baton-sim-1@cut:3</c>); it fails the way the HTTP provider would.
/// It also embeds, with <see cref="SimulatedEmbedding"/>'s deterministic vectors.
/// </summary>
public sealed class SimulatorProvider(ProviderContext context) : IChatProvider, IEmbeddingProvider
{
    public string Name => context.Name;

    public string Type => ProviderTypes.Simulator;

    public async Task<ProviderCompletion> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        using var timeout = new TimeoutScope(request.AttemptTimeout ?? context.Timeout, context.Time, cancellationToken);
        var (answer, fault) = Prepare(request);
        var pacer = new SimulationPacer(context.Options.Simulator, context.Time);
        try
        {
            await FailIfAskedAsync(fault, pacer, timeout.Token).ConfigureAwait(false);
            await pacer.WholeAnswerAsync(answer.Usage.CompletionTokens, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.TimedOut)
        {
            throw UpstreamErrors.TimedOut(Name, timeout.Duration);
        }
        if (fault.Kind == SimulationFaultKind.MalformedJson)
        {
            throw UpstreamErrors.Malformed(Name, "a response");
        }
        // Scrubbed as an HTTP provider's answer is, so that an echoed key is treated alike in and out of process.
        return context.Redactor.ScrubCompletion(new ProviderCompletion(OpenAiAnswerRenderer.Completion(answer), answer.Usage));
    }

    public async Task<ProviderStream> StreamAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        using var timeout = new TimeoutScope(request.AttemptTimeout ?? context.Timeout, context.Time, cancellationToken);
        var (answer, fault) = Prepare(request);
        var pacer = new SimulationPacer(context.Options.Simulator, context.Time);
        try
        {
            await FailIfAskedAsync(fault, pacer, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.TimedOut)
        {
            throw UpstreamErrors.TimedOut(Name, timeout.Duration);
        }
        return context.Redactor.ScrubStream(new SimulatedStream(Name, answer, fault, pacer));
    }

    /// <summary>One <see cref="SimulatedEmbedding"/> vector per input (a token array decoded first), its usage counted with cl100k_base.</summary>
    public async Task<ProviderEmbeddings> EmbedAsync(EmbeddingProviderRequest request, CancellationToken cancellationToken)
    {
        using var timeout = new TimeoutScope(request.AttemptTimeout ?? context.Timeout, context.Time, cancellationToken);
        var model = SimulationFault.StripFromModel(request.UpstreamModel, out var fault);
        var pacer = new SimulationPacer(context.Options.Simulator, context.Time);
        try
        {
            await FailIfAskedAsync(fault, pacer, timeout.Token).ConfigureAwait(false);
            await pacer.WholeAnswerAsync(0, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.TimedOut)
        {
            throw UpstreamErrors.TimedOut(Name, timeout.Duration);
        }
        if (fault.Kind == SimulationFaultKind.MalformedJson)
        {
            throw UpstreamErrors.Malformed(Name, "an embeddings response");
        }
        var embedding = request.Embedding;
        var dimensions = embedding.Dimensions ?? SimulatedEmbedding.DefaultDimensions(model);
        var vectors = new float[embedding.Inputs.Count][];
        for (var i = 0; i < vectors.Length; i++)
        {
            vectors[i] = SimulatedEmbedding.Vector(embedding.TextOf(i), dimensions);
        }
        return new ProviderEmbeddings(vectors, embedding.CountTokens(cancellationToken));
    }

    private (SimulatedAnswer Answer, SimulationFault Fault) Prepare(ProviderRequest request)
    {
        var model = SimulationFault.StripFromModel(request.UpstreamModel, out var fault);
        var prompt = OpenAiPromptReader.Read(request.Chat.Body.Span, model);
        prompt.MaxTokens ??= request.Parameters.MaxTokens;
        var answer = SimulatedModel.Answer(prompt, context.Time, context.Options.Simulator.AnswerWords);
        return (fault.Kind == SimulationFaultKind.EchoKey ? SimulatedEcho.WithKey(answer, context.ApiKey ?? SimulatedEcho.NoKey) : answer, fault);
    }

    private async Task FailIfAskedAsync(SimulationFault fault, SimulationPacer pacer, CancellationToken cancellationToken)
    {
        switch (fault.Kind)
        {
            case SimulationFaultKind.RateLimited:
                throw UpstreamErrors.FromResponse(Name, 429, """{"error":{"message":"Rate limit reached (simulated)."}}"""u8,
                    TimeSpan.FromSeconds(fault.Value), context.Redactor);
            case SimulationFaultKind.ServerError:
                throw UpstreamErrors.FromResponse(Name, fault.Value, """{"error":{"message":"Internal error (simulated)."}}"""u8, null, context.Redactor);
            case SimulationFaultKind.Unauthorized:
                throw UpstreamErrors.FromResponse(Name, 401, """{"error":{"message":"Invalid API key (simulated)."}}"""u8, null, context.Redactor);
            case SimulationFaultKind.EchoKeyInError:
                throw UpstreamErrors.FromResponse(Name, 401,
                    System.Text.Encoding.UTF8.GetBytes(SimulatedEcho.ErrorBody(context.ApiKey ?? SimulatedEcho.NoKey, fault.Value)), null, context.Redactor);
            case SimulationFaultKind.Reset:
                throw UpstreamErrors.Unreachable(Name, new IOException("The connection was reset by the peer (simulated)."), context.Redactor);
            case SimulationFaultKind.Hang:
                await pacer.HangAsync(cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private sealed class SimulatedStream(string provider, SimulatedAnswer answer, SimulationFault fault, SimulationPacer pacer) : ProviderStream
    {
        public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await pacer.BeforeFirstTokenAsync(cancellationToken).ConfigureAwait(false);
            var content = 0;
            foreach (var (json, kind) in OpenAiAnswerRenderer.Chunks(answer))
            {
                if (kind == SimulatedChunkKind.Content)
                {
                    if (fault.Kind == SimulationFaultKind.CutStream && content == fault.Value)
                    {
                        throw UpstreamErrors.StreamInterrupted(provider, "the connection closed in the middle of the answer (simulated).");
                    }
                    if (fault.Kind == SimulationFaultKind.MalformedJson && content == 1)
                    {
                        throw UpstreamErrors.Malformed(provider, "a stream chunk");
                    }
                    if (content > 0)
                    {
                        await pacer.BetweenTokensAsync(cancellationToken).ConfigureAwait(false);
                    }
                    content++;
                }
                if (kind == SimulatedChunkKind.Usage)
                {
                    Usage = answer.Usage;
                }
                yield return new StreamChunk(json, kind == SimulatedChunkKind.Usage);
            }
        }
    }
}
