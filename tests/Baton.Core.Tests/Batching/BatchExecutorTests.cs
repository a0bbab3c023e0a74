using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Baton.Batching;
using Baton.Core.Tests.TestSupport;
using Baton.Errors;
using Baton.Providers;
using Baton.Telemetry;

namespace Baton.Core.Tests.Batching;

/// <summary>
/// The one batch loop: its bound, its isolation of failures, its stop and its ordering, with the upstream held on the
/// test's own gates (never a sleep, never the clock).
/// </summary>
public sealed class BatchExecutorTests
{
    private static EngineHarness Harness()
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Model("m", "a");
        harness.Model("other", "b");
        return harness;
    }

    private static BatchEntry Entry(string content, string model = "m") => new(content,
        Baton.Requests.ChatRequestParser.Parse(System.Text.Encoding.UTF8.GetBytes(
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{content}}"}]}""")));

    private static List<BatchEntry> Entries(int count) => Enumerable.Range(0, count).Select(i => Entry("q" + i)).ToList();

    /// <summary>The question a call to the upstream carries.</summary>
    private static string Question(ProviderRequest request) =>
        JsonDocument.Parse(request.Chat.Body).RootElement.GetProperty("messages")[0].GetProperty("content").GetString()!;

    /// <summary>Holds each upstream call on its own gate, telling the test which call came in.</summary>
    private sealed class Gates
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
        private int _inFlight;
        private int _maxInFlight;

        public Channel<string> Entered { get; } = Channel.CreateUnbounded<string>();

        public int MaxInFlight => Volatile.Read(ref _maxInFlight);

        public async Task HoldAsync(ProviderRequest request, CancellationToken cancellationToken)
        {
            var question = Question(request);
            var now = Interlocked.Increment(ref _inFlight);
            int max;
            while ((max = Volatile.Read(ref _maxInFlight)) < now && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
            {
            }
            try
            {
                Entered.Writer.TryWrite(question);
                await Gate(question).Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public void Open(string question) => Gate(question).TrySetResult();

        private TaskCompletionSource Gate(string question) => _gates.GetOrAdd(question, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <summary>Keeps what the executor hands it: results (the question answered, or the error), in completion order too.</summary>
    private sealed class RecordingSink(bool keepsResults = true, Func<BatchAnswer, ValueTask>? store = null) : BatchSink<string>
    {
        public ConcurrentQueue<string> Stored { get; } = new();

        public ConcurrentQueue<string> Interruptions { get; } = new();

        public ConcurrentQueue<BatchProgress> Reports { get; } = new();

        public Channel<string> StoredSignal { get; } = Channel.CreateUnbounded<string>();

        public override bool KeepsResults => keepsResults;

        public override string Shape(BatchAnswer answer) =>
            answer.Completion is not null ? answer.Entry.Id : $"{answer.Entry.Id}: {answer.Error!.StatusCode} {answer.Error.Code}";

        public override async ValueTask StoreAsync(BatchAnswer answer, string result)
        {
            if (store is not null)
            {
                await store(answer);
            }
            Stored.Enqueue(result);
            StoredSignal.Writer.TryWrite(answer.Entry.Id);
        }

        public override void Interrupted(int index, BatchEntry entry) => Interruptions.Enqueue(entry.Id);

        public override void Report(BatchProgress progress) => Reports.Enqueue(progress);
    }

    [Fact]
    public async Task No_more_items_than_the_bound_are_asked_at_once_and_the_bound_is_used()
    {
        var harness = Harness();
        var gates = new Gates();
        harness.Provider("a").OnCall = gates.HoldAsync;
        var executor = new BatchExecutor(harness.Engine, harness.Time, maxConcurrency: 3);
        var sink = new RecordingSink();

        var run = executor.RunAsync(Entries(12), sink, CancellationToken.None);
        // Each call is held until the test opens its gate; one is opened only once three are held, so a fourth
        // concurrent call, were the bound not kept, would be counted in flight beside the three.
        var held = new Queue<string>();
        for (var entered = 0; entered < 12; entered++)
        {
            held.Enqueue(await gates.Entered.Reader.ReadAsync());
            if (held.Count == 3)
            {
                gates.Open(held.Dequeue());
            }
        }
        while (held.TryDequeue(out var question))
        {
            gates.Open(question);
        }
        var result = await run;

        Assert.Equal(3, gates.MaxInFlight);
        Assert.Equal(12, result.Progress.Done);
        Assert.Equal(0, result.Progress.Failed);
        Assert.False(result.Stopped);
        Assert.Equal(12, harness.Provider("a").Calls);
    }

    [Fact]
    public async Task Results_come_in_input_order_while_the_sink_gets_them_as_they_finish()
    {
        var harness = Harness();
        var gates = new Gates();
        harness.Provider("a").OnCall = gates.HoldAsync;
        var sink = new RecordingSink();

        var run = new BatchExecutor(harness.Engine, harness.Time, maxConcurrency: 5).RunAsync(Entries(5), sink, CancellationToken.None);
        for (var i = 0; i < 5; i++)
        {
            await gates.Entered.Reader.ReadAsync();
        }
        // Answered last to first, each once the one before has been stored.
        for (var i = 4; i >= 0; i--)
        {
            gates.Open("q" + i);
            Assert.Equal("q" + i, await sink.StoredSignal.Reader.ReadAsync());
        }
        var result = await run;

        Assert.Equal(["q4", "q3", "q2", "q1", "q0"], sink.Stored);
        Assert.Equal(["q0", "q1", "q2", "q3", "q4"], result.Results);
    }

    [Fact]
    public async Task A_failed_item_fails_alone_whatever_the_failure()
    {
        var harness = Harness();
        harness.Provider("b").Fail(500, message: "upstream broke");
        harness.Provider("a").OnCall = (request, _) =>
            Question(request) == "defect" ? throw new InvalidOperationException("a defect only this request meets") : Task.CompletedTask;
        var entries = new List<BatchEntry>
        {
            Entry("fine"),
            new("refused", null, BatonException.InvalidRequest("temperature must be at most 2", "temperature", "invalid_value")),
            Entry("defect"),
            Entry("upstream", model: "other"),
            Entry("also fine"),
        };
        var sink = new RecordingSink();

        var result = await new BatchExecutor(harness.Engine, harness.Time, maxConcurrency: 2).RunAsync(entries, sink, CancellationToken.None);

        Assert.False(result.Stopped);
        Assert.Equal(5, result.Progress.Done);
        Assert.Equal(3, result.Progress.Failed);
        Assert.Equal("fine", result.Results[0]);
        Assert.Equal("refused: 400 invalid_value", result.Results[1]);
        Assert.StartsWith("defect: 5", result.Results[2]);
        Assert.StartsWith("upstream: 5", result.Results[3]);
        Assert.Equal("also fine", result.Results[4]);
        // The refused item was never sent.
        Assert.Equal(3, harness.Provider("a").Calls);
        Assert.Empty(sink.Interruptions);
    }

    [Fact]
    public async Task A_sink_that_cannot_keep_a_result_stops_the_run_with_its_error()
    {
        var harness = Harness();
        var sink = new RecordingSink(keepsResults: false, store: answer =>
            answer.Entry.Id == "q2" ? throw new IOException("disk full") : ValueTask.CompletedTask);

        var error = await Assert.ThrowsAsync<IOException>(() =>
            new BatchExecutor(harness.Engine, harness.Time, maxConcurrency: 1).RunAsync(Entries(6), sink, CancellationToken.None));

        Assert.Equal("disk full", error.Message);
        // One at a time: the items after the one that could not be stored are not asked.
        Assert.Equal(["q0", "q1"], sink.Stored);
        Assert.Equal(3, harness.Provider("a").Calls);
    }

    [Fact]
    public async Task Stopping_ends_the_items_in_flight_at_once_and_reports_what_finished()
    {
        var harness = Harness();
        var gates = new Gates();
        // q0 to q2 are answered at once; every later call is held until the run is stopped.
        harness.Provider("a").OnCall = (request, token) =>
            Question(request) is "q0" or "q1" or "q2" ? Task.CompletedTask : gates.HoldAsync(request, token);
        using var stop = new CancellationTokenSource();
        var sink = new RecordingSink();

        var run = new BatchExecutor(harness.Engine, harness.Time, maxConcurrency: 2).RunAsync(Entries(10), sink, stop.Token);
        // Both places taken by held calls: the items started before them have finished.
        var held = new[] { await gates.Entered.Reader.ReadAsync(), await gates.Entered.Reader.ReadAsync() };
        await stop.CancelAsync();
        var result = await run;

        Assert.True(result.Stopped);
        Assert.Equal(3, result.Progress.Done);
        Assert.Equal(["q0", "q1", "q2"], result.Results.Take(3));
        Assert.All(result.Results.Skip(3), Assert.Null);
        Assert.Equal(["q0", "q1", "q2"], sink.Stored.Order());
        // The held items are to be asked again, and nothing was started after the stop.
        Assert.Equal(held.Order(), sink.Interruptions.Order());
        Assert.Equal(5, harness.Provider("a").Calls);
    }

    [Fact]
    public async Task Counters_add_up_tokens_cache_hits_and_failures_as_items_finish()
    {
        var harness = Harness();
        harness.UseCache();
        harness.Provider("b").Fail(500);
        var sink = new RecordingSink();
        var entries = new List<BatchEntry> { Entry("same"), Entry("same"), Entry("broken", model: "other") };

        // One at a time, so that the second item finds the first one's answer in the cache.
        var result = await new BatchExecutor(harness.Engine, harness.Time, maxConcurrency: 1).RunAsync(entries, sink, CancellationToken.None);

        Assert.Equal(new BatchProgress(3, 3, 1, 1, 26, 0), result.Progress);
        Assert.Equal(1, harness.Provider("a").Calls);
        // Reported before the first item and after each one, never going back.
        Assert.Equal([0, 1, 2, 3], sink.Reports.Select(p => p.Done));
    }

    [Fact]
    public async Task Items_run_in_the_callers_trace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var callerSource = new ActivitySource("batch-executor-tests-" + Guid.NewGuid().ToString("N"));
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BatonTelemetry.Name || source == callerSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var harness = Harness();
        harness.Telemetry = new BatonTelemetry(new Baton.Configuration.ObservabilityOptions());
        var executor = new BatchExecutor(harness.Engine, harness.Time, maxConcurrency: 2);

        ActivityTraceId trace;
        ActivitySpanId parent;
        using (var caller = callerSource.StartActivity("caller")!)
        {
            (trace, parent) = (caller.TraceId, caller.SpanId);
            await executor.RunAsync(Entries(3), new RecordingSink(), CancellationToken.None);
        }

        // One request span per item, each a child of the caller's span (and each attempt a child of its item's).
        var items = spans.Where(s => s.TraceId == trace && s.ParentSpanId == parent && s.Source.Name == BatonTelemetry.Name).ToList();
        Assert.Equal(3, items.Count);
        Assert.All(items, item => Assert.Contains(spans, s => s.ParentSpanId == item.SpanId && s.Kind == ActivityKind.Client));
    }
}
