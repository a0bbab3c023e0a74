using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Engine;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.OpenAi;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Engine;

/// <summary>
/// The idle watch of a started stream: a read that finds its chunk already received is not watched, and makes no
/// timer; a read that waits for the upstream is watched and cut at its limit, on a fake clock.
/// </summary>
public sealed class StartedStreamWatchTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_stream_whose_chunks_were_all_received_makes_no_timer()
    {
        var time = new CountingTimeProvider();
        var provider = new OneStreamProvider(new ChunkStream(waitBefore: -1));

        await using var started = await StartAsync(provider, time);
        var chunks = 1;
        while (await started.MoveNextWithinAsync(Limit, provider.Name))
        {
            chunks++;
        }

        Assert.Equal(ChunkStream.Count, chunks);
        Assert.Equal(0, time.TimersCreated);
    }

    [Fact]
    public async Task A_read_that_waits_is_watched_and_gets_its_chunk_in_time()
    {
        var time = new CountingTimeProvider();
        var stream = new ChunkStream(waitBefore: 1);
        var provider = new OneStreamProvider(stream);

        await using var started = await StartAsync(provider, time);
        var read = started.MoveNextWithinAsync(Limit, provider.Name);
        Assert.False(read.IsCompleted);
        Assert.Equal(1, time.TimersCreated);

        time.Advance(Limit - TimeSpan.FromSeconds(1));
        stream.Release();

        Assert.True(await read);
    }

    [Fact]
    public async Task A_read_that_waits_past_its_limit_is_cut_as_an_interrupted_stream()
    {
        var time = new CountingTimeProvider();
        var provider = new OneStreamProvider(new ChunkStream(waitBefore: 1));

        await using var started = await StartAsync(provider, time);
        var read = started.MoveNextWithinAsync(Limit, provider.Name);
        time.Advance(Limit);

        var error = await Assert.ThrowsAsync<BatonException>(async () => await read);
        Assert.Equal("stream_interrupted", error.Code);
        Assert.True(started.TimedOut);
    }

    [Fact]
    public async Task A_first_chunk_that_never_comes_is_cut_at_the_first_chunk_limit()
    {
        var time = new CountingTimeProvider();
        var provider = new OneStreamProvider(new ChunkStream(waitBefore: 0));

        var start = StartAsync(provider, time);
        Assert.False(start.IsCompleted);
        time.Advance(Limit);

        var error = await Assert.ThrowsAsync<BatonException>(() => start);
        Assert.Equal("stream_interrupted", error.Code);
    }

    /// <summary>Starts the provider's stream and waits for its first chunk, as the attempt runner does.</summary>
    private static async Task<StartedStream> StartAsync(IChatProvider provider, TimeProvider time) =>
        await StartedStream.BeginAsync(await provider.StreamAsync(Request(), CancellationToken.None), Limit, time, provider.Name, CancellationToken.None);

    private static ProviderRequest Request() =>
        new(EngineHarness.Request("m", stream: true), "m", new RequestDefaults());

    /// <summary>A fake clock that counts the timers made on it.</summary>
    private sealed class CountingTimeProvider() : FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
        public int TimersCreated { get; private set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            TimersCreated++;
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }

    private sealed class OneStreamProvider(ProviderStream stream) : IChatProvider
    {
        public string Name => "p";

        public string Type => "openai";

        public Task<ProviderCompletion> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<ProviderStream> StreamAsync(ProviderRequest request, CancellationToken cancellationToken) => Task.FromResult(stream);
    }

    /// <summary>Three chunks, all at once, or waiting before chunk <c>waitBefore</c> until released (or the read is cancelled).</summary>
    private sealed class ChunkStream(int waitBefore) : ProviderStream
    {
        public const int Count = 3;

        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _released.TrySetResult();

        public override async IAsyncEnumerable<StreamChunk> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var writer = new ChatChunkWriter("chatcmpl-1", 0, "m");
            for (var i = 0; i < Count; i++)
            {
                if (i == waitBefore)
                {
                    await _released.Task.WaitAsync(cancellationToken);
                }
                yield return new StreamChunk(i == Count - 1 ? writer.Finish("stop") : writer.Content($"w{i} "), false);
            }
        }
    }
}
