using System.Text;
using Baton.Core.Tests.TestSupport;
using Baton.Engine;
using Baton.Errors;

namespace Baton.Core.Tests.Resilience;

/// <summary>Streams that break, stall or never start, on a fake clock.</summary>
public sealed class StreamFailoverTests
{
    private static async Task<(List<string> Chunks, RouteInfo Route)> ReadAllAsync(EngineHarness harness, string model = "m")
    {
        var (result, _) = await harness.RunAsync(async () =>
        {
            await using var stream = await harness.Engine.StreamAsync(EngineHarness.Request(model, stream: true), CancellationToken.None);
            var chunks = new List<string>();
            await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
            {
                chunks.Add(Encoding.UTF8.GetString(chunk.Json.Span));
            }
            return (chunks, stream.Route);
        });
        return result;
    }

    private static string Text(IEnumerable<string> chunks) => string.Concat(chunks
        .Select(c => System.Text.Json.JsonDocument.Parse(c).RootElement.GetProperty("choices"))
        .Where(choices => choices.GetArrayLength() > 0 && choices[0].GetProperty("delta").TryGetProperty("content", out _))
        .Select(choices => choices[0].GetProperty("delta").GetProperty("content").GetString()));

    [Fact]
    public async Task A_stream_cut_after_some_text_is_continued_by_the_next_deployment()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a", "b");
        harness.Provider("a").StreamThenBreak(2);

        var (chunks, route) = await ReadAllAsync(harness);

        Assert.Equal("a-0 a-1 b-0 b-1 b-2 ", Text(chunks));
        Assert.True(route.StreamResumed);
        Assert.Equal("b/m", route.Deployment);
        Assert.Equal(2, route.Attempts);
        var continuation = Encoding.UTF8.GetString(harness.Provider("b").Requests.Single().Chat.Body.Span);
        Assert.Contains("""{"role":"assistant","content":"a-0 a-1 "}""", continuation);
        Assert.Contains(FailoverStream.ContinueInstruction, continuation);
    }

    [Fact]
    public async Task A_stream_cut_before_any_text_is_simply_asked_again()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a", "b");
        harness.Provider("a").StreamThenBreak(0);

        var (chunks, route) = await ReadAllAsync(harness);

        Assert.Equal("b-0 b-1 b-2 ", Text(chunks));
        Assert.True(route.StreamResumed);
        Assert.DoesNotContain("assistant", Encoding.UTF8.GetString(harness.Provider("b").Requests.Single().Chat.Body.Span));
    }

    [Fact]
    public async Task A_stream_that_goes_silent_is_resumed_after_the_idle_timeout()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.IdleTimeoutSeconds = 5;
        harness.Model("m", "a", "b");
        harness.Provider("a").StreamThenBreak(1, hang: true);

        var (chunks, route) = await ReadAllAsync(harness);

        Assert.Equal("a-0 b-0 b-1 b-2 ", Text(chunks));
        Assert.Equal("b/m", route.Deployment);
        Assert.True(harness.Time.GetUtcNow() - harness.Provider("a").CallTimes[0] >= TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_reader_that_holds_chunks_longer_than_the_idle_timeout_does_not_cut_the_stream()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.IdleTimeoutSeconds = 5;
        harness.Model("m", "a", "b");

        await using var stream = await harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None);
        var chunks = new List<string>();
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            chunks.Add(Encoding.UTF8.GetString(chunk.Json.Span));
            // A slow client: the clock passes the idle timeout twice while each chunk is being written to it.
            harness.Time.Advance(TimeSpan.FromSeconds(12));
        }

        Assert.Equal("a-0 a-1 a-2 ", Text(chunks));
        Assert.False(stream.Route.StreamResumed);
        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.Equal(0, harness.Provider("b").Calls);
    }

    [Fact]
    public async Task A_stream_whose_first_chunk_never_comes_is_retried_within_the_first_chunk_timeout()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.FirstChunkTimeoutSeconds = 3;
        harness.Model("m", "a");
        harness.Provider("a").StreamSilentFromTheStart();

        var (chunks, route) = await ReadAllAsync(harness);

        Assert.Equal("a-0 a-1 a-2 ", Text(chunks));
        Assert.Equal(2, route.Attempts);
        Assert.False(route.StreamResumed);
        Assert.InRange(harness.Provider("a").CallTimes[1] - harness.Provider("a").CallTimes[0], TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_stream_that_ends_before_its_first_chunk_is_disposed_of_and_asked_again()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.Provider("a").StreamEmpty();

        var (chunks, route) = await ReadAllAsync(harness);

        Assert.Equal("a-0 a-1 a-2 ", Text(chunks));
        Assert.Equal(2, route.Attempts);
        Assert.False(route.StreamResumed);
        // The empty stream was given back when its attempt failed, and the answer's when it was read.
        Assert.Equal(2, harness.Provider("a").StreamsDisposed);
    }

    [Fact]
    public async Task With_resuming_turned_off_a_cut_stream_fails_honestly()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxStreamResumes = 0;
        harness.Model("m", "a", "b");
        harness.Provider("a").StreamThenBreak(2);

        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAllAsync(harness));

        Assert.Equal("stream_interrupted", error.Code);
        Assert.Equal(0, harness.Provider("b").Calls);
    }

    [Fact]
    public async Task A_streams_chunks_are_read_once_and_a_reading_that_failed_stays_ended()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxStreamResumes = 0;
        harness.Model("m", "a");
        harness.Provider("a").StreamThenBreak(2);

        var (moves, _) = await harness.RunAsync(async () =>
        {
            await using var stream = await harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None);
            var chunks = stream.ReadAsync(CancellationToken.None);
            await using var reader = chunks.GetAsyncEnumerator();
            Assert.Throws<InvalidOperationException>(() => chunks.GetAsyncEnumerator());
            var delivered = 0;
            var error = await Assert.ThrowsAsync<BatonException>(async () =>
            {
                while (await reader.MoveNextAsync())
                {
                    delivered++;
                }
            });
            Assert.Equal("stream_interrupted", error.Code);
            return (delivered, await reader.MoveNextAsync());
        });

        // The role chunk and two of text, then the cut; a move after it finds the reading ended.
        Assert.Equal((3, false), moves);
    }

    [Fact]
    public async Task Resuming_stops_after_the_configured_number_of_resumes()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxStreamResumes = 2;
        harness.Model("m", "a");
        harness.Provider("a").StreamThenBreak(1).StreamThenBreak(1).StreamThenBreak(1);

        var error = await Assert.ThrowsAsync<BatonException>(() => ReadAllAsync(harness));

        Assert.Equal("stream_interrupted", error.Code);
        Assert.Equal(3, harness.Provider("a").Calls);
    }
}
