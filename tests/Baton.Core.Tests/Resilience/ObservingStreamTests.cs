using System.Runtime.CompilerServices;
using System.Text;
using Baton.Engine;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Core.Tests.Resilience;

/// <summary>Observing streams stacked on a stream: one read of the source, each observer seeing what a layer of its own saw.</summary>
public sealed class ObservingStreamTests
{
    private static readonly RouteInfo Route = new("m", "p", "p/m", "m", Attempts: 1, UpstreamTime: TimeSpan.Zero);

    [Fact]
    public async Task Stacked_observers_read_the_source_once_and_see_each_chunk_innermost_first_then_the_end()
    {
        var log = new List<string>();
        var source = new ListStream(["a", "b"]);
        await using var outer = new Recorder("outer", new Recorder("middle", new Recorder("inner", source, log), log), log);

        var read = new List<string>();
        await foreach (var chunk in outer.ReadAsync(CancellationToken.None))
        {
            read.Add(Encoding.UTF8.GetString(chunk.Json.Span));
            log.Add("reader:" + read[^1]);
        }

        Assert.Equal(["a", "b"], read);
        Assert.Equal(1, source.Enumerations);
        Assert.Equal(
            [
                "inner:a", "middle:a", "outer:a", "reader:a",
                "inner:b", "middle:b", "outer:b", "reader:b",
                "inner:end", "middle:end", "outer:end",
            ],
            log);
    }

    [Fact]
    public async Task A_broken_source_is_seen_by_every_observer_and_thrown_to_the_reader()
    {
        var log = new List<string>();
        var cut = new BatonException(502, "upstream_error", "cut", code: "stream_interrupted");
        await using var outer = new Recorder("outer", new Recorder("inner", new ListStream(["a"], cut), log), log);

        var thrown = await Assert.ThrowsAsync<BatonException>(async () =>
        {
            await foreach (var _ in outer.ReadAsync(CancellationToken.None))
            {
            }
        });

        Assert.Same(cut, thrown);
        Assert.Equal(["inner:a", "outer:a", "inner:failed:cut", "outer:failed:cut"], log);
    }

    [Fact]
    public async Task An_observer_that_throws_breaks_the_stream_for_the_observers_above_it_only()
    {
        var log = new List<string>();
        var source = new ListStream(["a", "bad", "c"]);
        await using var outer = new Recorder("outer", new Recorder("middle", new Recorder("inner", source, log), log) { ThrowsOn = "bad" }, log);

        var read = new List<string>();
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var chunk in outer.ReadAsync(CancellationToken.None))
            {
                read.Add(Encoding.UTF8.GetString(chunk.Json.Span));
            }
        });

        Assert.Equal("middle refused bad", thrown.Message);
        Assert.Equal(["a"], read);
        Assert.Equal(["inner:a", "middle:a", "outer:a", "inner:bad", "middle:bad", "outer:failed:middle refused bad"], log);
        Assert.True(source.Disposed, "the source's enumeration is ended when the loop stops");
    }

    [Fact]
    public async Task A_reader_that_stops_early_ends_no_observer_and_the_observers_keep_the_route_and_usage_of_the_source()
    {
        var log = new List<string>();
        var source = new ListStream(["a", "b", "c"]);
        var outer = new Recorder("outer", new Recorder("inner", source, log), log);

        await foreach (var _ in outer.ReadAsync(CancellationToken.None))
        {
            break;
        }
        await outer.DisposeAsync();

        Assert.Equal(["inner:a", "outer:a"], log);
        Assert.Same(Route, outer.Route);
        Assert.Equal(new TokenUsage(1, 2, 3), outer.Usage);
        Assert.True(source.Disposed);
    }

    [Fact]
    public async Task Chunks_the_source_has_ready_are_observed_and_read_as_those_it_waits_for()
    {
        var log = new List<string>();
        var cut = new BatonException(502, "upstream_error", "cut", code: "stream_interrupted");
        var source = new ListStream(["a", "b"], cut, waits: false);
        await using var outer = new Recorder("outer", new Recorder("inner", source, log), log);

        var read = new List<string>();
        var chunks = outer.ReadAsync(CancellationToken.None).GetAsyncEnumerator();
        var thrown = await Assert.ThrowsAsync<BatonException>(async () =>
        {
            while (await chunks.MoveNextAsync())
            {
                read.Add(Encoding.UTF8.GetString(chunks.Current.Json.Span));
            }
        });
        // The enumeration is over once the source broke: a further read ends it without telling anyone it completed.
        Assert.False(await chunks.MoveNextAsync());
        await chunks.DisposeAsync();

        Assert.Same(cut, thrown);
        Assert.Equal(["a", "b"], read);
        Assert.Equal(["inner:a", "outer:a", "inner:b", "outer:b", "inner:failed:cut", "outer:failed:cut"], log);
        Assert.Equal(1, source.Enumerations);
        Assert.True(source.Disposed);
    }

    /// <summary>A source of fixed chunks (each waited for, or all ready at once), optionally broken after them; counts its enumerations.</summary>
    private sealed class ListStream(IReadOnlyList<string> chunks, Exception? breaksWith = null, bool waits = true) : ChatStream
    {
        public int Enumerations { get; private set; }

        public bool Disposed { get; private set; }

        public override RouteInfo Route => ObservingStreamTests.Route;

        public override TokenUsage? Usage => new TokenUsage(1, 2, 3);

        public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Enumerations++;
            try
            {
                foreach (var chunk in chunks)
                {
                    if (waits)
                    {
                        await Task.Yield();
                    }
                    yield return new StreamChunk(Encoding.UTF8.GetBytes(chunk), IsUsageOnly: false);
                }
                if (breaksWith is not null)
                {
                    throw breaksWith;
                }
            }
            finally
            {
                Disposed = true;
            }
        }

        public override ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>An observer that writes what it sees into a shared log, and may refuse one chunk.</summary>
    private sealed class Recorder(string name, ChatStream inner, List<string> log) : ObservingStream(inner)
    {
        public string? ThrowsOn { get; init; }

        private protected override void OnChunk(in StreamChunk chunk)
        {
            var text = Encoding.UTF8.GetString(chunk.Json.Span);
            log.Add($"{name}:{text}");
            if (text == ThrowsOn)
            {
                throw new InvalidOperationException($"{name} refused {text}");
            }
        }

        private protected override void OnCompleted() => log.Add($"{name}:end");

        private protected override void OnFailed(Exception error) => log.Add($"{name}:failed:{error.Message}");

        public override ValueTask DisposeAsync() => Inner.DisposeAsync();
    }
}
