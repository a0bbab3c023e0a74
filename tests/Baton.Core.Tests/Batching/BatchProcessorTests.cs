using System.Text;
using System.Text.Json;
using Baton.Batching;
using Baton.Core.Tests.TestSupport;

namespace Baton.Core.Tests.Batching;

/// <summary>Seed 001's batch contract through the engine, on a fake clock.</summary>
public sealed class BatchProcessorTests
{
    private static BatchItem Item(string provider = "a", string model = "m", string? id = null, string content = "hello", double? temperature = null, int? maxTokens = null) => new()
    {
        Provider = provider,
        Model = model,
        RequestId = id,
        Temperature = temperature,
        MaxTokens = maxTokens,
        Messages = [new BatchMessage { Role = "user", Content = content }],
    };

    private static (EngineHarness Harness, BatchProcessor Processor) Setup(int maxConcurrency = 10)
    {
        var harness = new EngineHarness();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Model("m", "a");
        harness.Model("other", "b");
        return (harness, new BatchProcessor(new BatchExecutor(harness.Engine, harness.Time, maxConcurrency)));
    }

    [Fact]
    public async Task Answers_come_in_request_order_with_usage_and_ids_and_seed_001s_defaults()
    {
        var (harness, processor) = Setup();
        var batch = new BatchRequest { Requests = [Item(id: "req-1"), Item(provider: "b", model: "other", id: "req-2", temperature: 0.2, maxTokens: 50)] };

        var (response, _) = await harness.RunAsync(() => processor.ProcessBatchAsync(batch));

        Assert.Equal(2, response.TotalRequests);
        Assert.Equal(2, response.Successful);
        Assert.Equal(0, response.Failed);
        Assert.Equal(["req-1", "req-2"], response.Responses.Select(r => r.RequestId));
        Assert.Equal(["a", "b"], response.Responses.Select(r => r.Provider));
        Assert.Equal("answer from a", response.Responses[0].Content);
        Assert.Equal(13, response.Responses[0].TotalTokens);
        Assert.Null(response.Responses[0].Error);
        var sent = JsonDocument.Parse(harness.Provider("a").Requests.Single().Chat.Body).RootElement;
        Assert.Equal(0.7, sent.GetProperty("temperature").GetDouble());
        Assert.Equal(1000, sent.GetProperty("max_tokens").GetInt32());
        var second = JsonDocument.Parse(harness.Provider("b").Requests.Single().Chat.Body).RootElement;
        Assert.Equal(0.2, second.GetProperty("temperature").GetDouble());
        Assert.Equal(50, second.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public async Task One_failed_item_never_fails_the_batch()
    {
        var (harness, processor) = Setup();
        harness.Provider("b").Fail(500, message: "upstream broke");

        var (response, _) = await harness.RunAsync(() => processor.ProcessBatchAsync(new BatchRequest { Requests = [Item(), Item(provider: "b", model: "other")] }));

        Assert.Equal(1, response.Successful);
        Assert.Equal(1, response.Failed);
        Assert.Contains("upstream broke", response.Responses[1].Error);
        Assert.Equal("", response.Responses[1].Content);
        Assert.Equal(0, response.Responses[1].TotalTokens);
    }

    [Fact]
    public async Task Items_run_concurrently_within_the_configured_limit()
    {
        var (harness, processor) = Setup(maxConcurrency: 5);
        harness.Provider("a").Answer(after: TimeSpan.FromSeconds(1), times: 20);
        var batch = new BatchRequest { Requests = Enumerable.Range(0, 20).Select(i => Item(content: $"question {i}")).ToList() };

        // Every wave holds five items (20 = 4 × 5): the clock moves only once all five wait for their answers.
        var (response, elapsed) = await harness.RunAsync(() => processor.ProcessBatchAsync(batch), parked: () => harness.Time.ParkedDelays >= 5);

        Assert.Equal(20, response.Successful);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6));
        Assert.True(response.TotalLatencyMs >= 4000);
        Assert.InRange(response.AverageLatencyMs, 1000, 1500);
    }

    [Fact]
    public async Task A_batch_item_may_name_any_upstream_model_its_provider_serves()
    {
        var (harness, processor) = Setup();

        var (response, _) = await harness.RunAsync(() => processor.ProcessBatchAsync(new BatchRequest { Requests = [Item(model: "google/gemma-3-27b-it:free"), Item(model: "M")] }));

        Assert.Equal(2, response.Successful);
        Assert.Contains(harness.Provider("a").Requests, r => r.UpstreamModel == "google/gemma-3-27b-it:free");
        Assert.Equal("google/gemma-3-27b-it:free", response.Responses[0].Model);
        Assert.Equal("m", response.Responses[1].Model);
    }

    [Fact]
    public async Task An_invalid_batch_lists_every_offending_field_and_sends_nothing()
    {
        var (harness, processor) = Setup();
        var bad = Item(provider: "nowhere", model: "", id: "dup", temperature: 2.5, maxTokens: 40_000);
        bad.Messages = [new BatchMessage { Role = "tool", Content = "   " }, new BatchMessage { Role = "user", Content = new string('x', 50_001) }];
        var batch = new BatchRequest { Requests = [Item(id: "dup"), bad, new BatchItem { Provider = "a", Model = "m" }] };

        var error = await Assert.ThrowsAsync<BatonValidationException>(() => processor.ProcessBatchAsync(batch));

        Assert.Equal(422, error.StatusCode);
        Assert.Equal(
            [
                "requests[1].provider", "requests[1].model", "requests[1].messages[0].role", "requests[1].messages[0].content",
                "requests[1].messages[1].content", "requests[1].temperature", "requests[1].max_tokens", "requests[1].request_id",
                "requests[2].messages",
            ],
            error.Errors.Select(e => e.Param));
        Assert.Equal(0, harness.Provider("a").Calls);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task A_batch_holds_one_to_a_hundred_requests(int count)
    {
        var (_, processor) = Setup();
        var error = await Assert.ThrowsAsync<BatonValidationException>(() =>
            processor.ProcessBatchAsync(new BatchRequest { Requests = Enumerable.Range(0, count).Select(_ => Item()).ToList() }));
        Assert.Equal("requests", error.Errors.Single().Param);
    }

    [Fact]
    public void Wrong_types_in_the_json_are_named_by_path()
    {
        var (harness, _) = Setup();
        var json = """{"requests":[{"provider":1,"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot","max_tokens":1.5},{"provider":"a","model":"m","messages":"hi"}]}""";

        var error = Assert.Throws<BatonValidationException>(() => BatchValidator.Read(JsonDocument.Parse(json).RootElement, harness.Engine.Catalog));

        Assert.Equal(["requests[0].provider", "requests[0].temperature", "requests[0].max_tokens", "requests[1].messages"], error.Errors.Select(e => e.Param));
        Assert.Equal("must be a string", error.Errors[0].Message);
    }
}
