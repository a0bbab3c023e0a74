using System.Runtime.CompilerServices;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.OpenAi;
using Baton.RateLimiting;

namespace Baton.Core.Tests.TestSupport;

/// <summary>
/// A provider that plays a script: each call takes the next step (fail, hang, answer, or stream some chunks
/// and then break or go silent); once the script is used up, it answers. Records when each call came, on
/// the injected clock, so that tests can check the spacing of retries without sleeping.
/// </summary>
public sealed class ScriptedProvider(string name, TimeProvider time) : IChatProvider
{
    private readonly Queue<Step> _script = new();

    public string Name => name;

    public string Type => "scripted";

    public List<DateTimeOffset> CallTimes { get; } = [];

    public List<ProviderRequest> Requests { get; } = [];

    private int _streamsDisposed;

    /// <summary>How many of the streams this provider started were disposed (each gives back its upstream response).</summary>
    public int StreamsDisposed => Volatile.Read(ref _streamsDisposed);

    public int Calls => CallTimes.Count;

    /// <summary>Runs at each completion call before its step plays: a test holds calls on its own gates, or fails them.</summary>
    public Func<ProviderRequest, CancellationToken, Task>? OnCall { get; set; }

    public ScriptedProvider Fail(int status, TimeSpan? retryAfter = null, string message = "scripted failure", int times = 1, UpstreamRateLimit? rateLimit = null)
    {
        for (var i = 0; i < times; i++)
        {
            _script.Enqueue(new Step(Error: UpstreamErrors.FromResponse(name, status,
                System.Text.Encoding.UTF8.GetBytes($$$"""{"error":{"message":"{{{message}}}"}}"""), retryAfter, new SecretRedactor(), rateLimit)));
        }
        return this;
    }

    /// <summary>An answer after <paramref name="after"/> (on the injected clock), reporting <paramref name="usage"/> and the upstream's rate-limit headers.</summary>
    public ScriptedProvider Answer(TimeSpan? after = null, TokenUsage? usage = null, UpstreamRateLimit? rateLimit = null, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _script.Enqueue(new Step(Delay: after, Usage: usage, RateLimit: rateLimit));
        }
        return this;
    }

    public ScriptedProvider Hang()
    {
        _script.Enqueue(new Step(Hang: true));
        return this;
    }

    /// <summary>A stream that sends a role chunk and <paramref name="contentChunks"/> words, then breaks (or hangs).</summary>
    public ScriptedProvider StreamThenBreak(int contentChunks, bool hang = false)
    {
        _script.Enqueue(new Step(CutAfter: contentChunks, Hang: hang));
        return this;
    }

    /// <summary>A stream the upstream ends before sending anything.</summary>
    public ScriptedProvider StreamEmpty()
    {
        _script.Enqueue(new Step(CutAfter: 0, Empty: true));
        return this;
    }

    /// <summary>A stream whose first chunk never comes.</summary>
    public ScriptedProvider StreamSilentFromTheStart()
    {
        _script.Enqueue(new Step(CutAfter: -1, Hang: true));
        return this;
    }

    public async Task<ProviderCompletion> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var step = Next(request);
        if (OnCall is { } onCall)
        {
            await onCall(request, cancellationToken);
        }
        await PlayAsync(step, request.AttemptTimeout, cancellationToken);
        var usage = step.Usage ?? TokenUsage.Of(10, 3);
        var body = ChatCompletionWriter.Write("chatcmpl-" + name, 0, request.UpstreamModel, "answer from " + name, null, "stop", usage);
        return new ProviderCompletion(body, usage) { UpstreamRateLimit = step.RateLimit };
    }

    public async Task<ProviderStream> StreamAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var step = Next(request);
        if (step.CutAfter is null)
        {
            await PlayAsync(step, request.AttemptTimeout, cancellationToken);
        }
        return new ScriptedStream(name, step, time, () => Interlocked.Increment(ref _streamsDisposed)) { UpstreamRateLimit = step.RateLimit };
    }

    private Step Next(ProviderRequest request)
    {
        lock (_script)
        {
            CallTimes.Add(time.GetUtcNow());
            Requests.Add(request);
            return _script.Count > 0 ? _script.Dequeue() : new Step();
        }
    }

    private async Task PlayAsync(Step step, TimeSpan? attemptTimeout, CancellationToken cancellationToken)
    {
        if (step.Error is { } error)
        {
            throw error;
        }
        if (step.Delay is { } delay)
        {
            await Task.Delay(delay, time, cancellationToken);
        }
        if (step.Hang)
        {
            // Like a real provider: the attempt's own timeout ends the hang as a timeout error.
            using var timeout = new TimeoutScope(attemptTimeout ?? TimeSpan.FromSeconds(30), time, cancellationToken);
            try
            {
                await TrackingTimeProvider.HangAsync(time, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.TimedOut)
            {
                throw UpstreamErrors.TimedOut(name, timeout.Duration);
            }
        }
    }

    private sealed record Step(BatonException? Error = null, bool Hang = false, int? CutAfter = null,
        TimeSpan? Delay = null, TokenUsage? Usage = null, UpstreamRateLimit? RateLimit = null, bool Empty = false);

    private sealed class ScriptedStream(string name, Step step, TimeProvider time, Action disposed) : ProviderStream
    {
        public override ValueTask DisposeAsync()
        {
            disposed();
            return base.DisposeAsync();
        }

        public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var writer = new ChatChunkWriter("chatcmpl-" + name, 0, "scripted");
            if (step.Empty)
            {
                yield break;
            }
            if (step.CutAfter < 0)
            {
                await TrackingTimeProvider.HangAsync(time, cancellationToken);
            }
            yield return new StreamChunk(writer.Role(), false);
            for (var i = 0; i < (step.CutAfter ?? 3); i++)
            {
                // As a read from a real connection would, a cancelled read fails.
                cancellationToken.ThrowIfCancellationRequested();
                yield return new StreamChunk(writer.Content($"{name}-{i} "), false);
            }
            if (step.CutAfter is not null)
            {
                if (step.Hang)
                {
                    await TrackingTimeProvider.HangAsync(time, cancellationToken);
                }
                throw UpstreamErrors.StreamInterrupted(name, "scripted cut");
            }
            yield return new StreamChunk(writer.Finish("stop"), false);
            Usage = step.Usage ?? TokenUsage.Of(10, 3);
            yield return new StreamChunk(writer.Usage(Usage.Value), true);
        }
    }
}
