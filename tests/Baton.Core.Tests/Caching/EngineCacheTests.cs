using System.Text;
using System.Text.Json;
using Baton.Caching;
using Baton.Configuration;
using Baton.Core.Tests.TestSupport;
using Baton.Engine;
using Baton.Requests;

namespace Baton.Core.Tests.Caching;

/// <summary>The engine with the response cache, on a fake clock.</summary>
public sealed class EngineCacheTests
{
    private static EngineHarness Cached(string mode = CacheModes.On)
    {
        var harness = new EngineHarness();
        harness.Model("m", "a");
        harness.UseCache(mode);
        return harness;
    }

    private static ChatRequest WithDirectives(CacheDirectives directives)
    {
        var request = EngineHarness.Request("m");
        request.Options = request.Options with { Cache = directives };
        return request;
    }

    private static async Task<(List<string> Chunks, RouteInfo Route)> StreamAsync(EngineHarness harness)
    {
        var (result, _) = await harness.RunAsync(async () =>
        {
            await using var stream = await harness.Engine.StreamAsync(EngineHarness.Request("m", stream: true), CancellationToken.None);
            var chunks = new List<string>();
            await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
            {
                chunks.Add(Encoding.UTF8.GetString(chunk.Json.Span));
            }
            return (chunks, stream.Route);
        });
        return result;
    }

    private static string Content(ReadOnlyMemory<byte> completion) =>
        JsonDocument.Parse(completion).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    [Fact]
    public async Task The_second_identical_request_is_answered_from_the_cache_and_says_so()
    {
        var harness = Cached();

        var (first, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        var (second, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(CacheStatus.Miss, first.Route.Cache);
        Assert.Equal(CacheStatus.Hit, second.Route.Cache);
        Assert.Equal(0, second.Route.Attempts);
        Assert.Equal("a/m", second.Route.Deployment);
        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.Equal(first.Body.ToArray(), second.Body.ToArray());
        Assert.Equal(first.Usage, second.Usage);
        Assert.Equal(new CacheStatistics(1, harness.Cache!.Statistics().Bytes, 1, 1), harness.Cache!.Statistics());
    }

    [Fact]
    public async Task No_cache_skips_the_lookup_but_stores_the_fresh_answer()
    {
        var harness = Cached();
        await harness.CompleteAsync(EngineHarness.Request("m"));

        var (fresh, _) = await harness.CompleteAsync(WithDirectives(CacheDirectives.Default.WithCacheControl("no-cache")));

        Assert.Equal(CacheStatus.Miss, fresh.Route.Cache);
        Assert.Equal(2, harness.Provider("a").Calls);
        var (after, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal(CacheStatus.Hit, after.Route.Cache);
    }

    [Fact]
    public async Task No_store_and_cache_disabled_bypass_the_cache_entirely()
    {
        var harness = Cached();

        var (noStore, _) = await harness.CompleteAsync(WithDirectives(CacheDirectives.Default.WithCacheControl("no-store")));
        var (disabled, _) = await harness.CompleteAsync(EngineHarness.Request("m", metadata: ""","metadata":{"cache_disabled":"true"}"""));

        Assert.Equal(CacheStatus.Bypass, noStore.Route.Cache);
        Assert.Equal(CacheStatus.Bypass, disabled.Route.Cache);
        Assert.Equal(0, harness.Cache!.Statistics().Entries);
    }

    [Fact]
    public async Task Read_only_serves_but_never_stores_and_write_only_stores_but_never_serves()
    {
        var readOnly = Cached(CacheModes.ReadOnly);
        await readOnly.CompleteAsync(EngineHarness.Request("m"));
        await readOnly.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal(2, readOnly.Provider("a").Calls);
        Assert.Equal(0, readOnly.Cache!.Statistics().Entries);

        var writeOnly = Cached(CacheModes.WriteOnly);
        await writeOnly.CompleteAsync(EngineHarness.Request("m"));
        var (second, _) = await writeOnly.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal(2, writeOnly.Provider("a").Calls);
        Assert.Equal(CacheStatus.Miss, second.Route.Cache);
        Assert.Equal(1, writeOnly.Cache!.Statistics().Entries);
    }

    [Fact]
    public async Task Answers_expire_after_the_default_the_model_or_the_request_ttl()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a").CacheTtlSeconds = 30;
        harness.UseCache(ttlSeconds: 3600);

        await harness.CompleteAsync(EngineHarness.Request("m"));
        harness.Time.Advance(TimeSpan.FromSeconds(31));
        var (afterModelTtl, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal(CacheStatus.Miss, afterModelTtl.Route.Cache);

        await harness.CompleteAsync(WithDirectives(CacheDirectives.Default with { Lookup = false, Ttl = TimeSpan.FromSeconds(5) }));
        harness.Time.Advance(TimeSpan.FromSeconds(6));
        var (afterRequestTtl, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal(CacheStatus.Miss, afterRequestTtl.Route.Cache);
        Assert.Equal(4, harness.Provider("a").Calls);
    }

    [Fact]
    public async Task Failures_are_not_stored()
    {
        var harness = Cached();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Provider("a").Fail(500);

        await Assert.ThrowsAsync<Baton.Errors.BatonException>(() => harness.CompleteAsync(EngineHarness.Request("m")));

        Assert.Equal(0, harness.Cache!.Statistics().Entries);
        var (next, _) = await harness.CompleteAsync(EngineHarness.Request("m"));
        Assert.Equal(CacheStatus.Miss, next.Route.Cache);
    }

    [Fact]
    public async Task Identical_requests_in_flight_at_once_make_one_upstream_call()
    {
        var harness = Cached();
        harness.Provider("a").Answer(after: TimeSpan.FromSeconds(2));

        var (results, _) = await harness.RunAsync(() =>
            Task.WhenAll(Enumerable.Range(0, 10).Select(_ => harness.Engine.CompleteAsync(EngineHarness.Request("m"), CancellationToken.None))));

        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.Single(results, r => r.Route.Cache == CacheStatus.Miss);
        Assert.Equal(9, results.Count(r => r.Route.Cache == CacheStatus.Hit));
        Assert.All(results, r => Assert.Equal(Content(results[0].Body), Content(r.Body)));
    }

    [Fact]
    public async Task When_the_leader_fails_a_waiting_request_makes_its_own_call()
    {
        var harness = Cached();
        harness.Options.Resilience.MaxRetries = 0;
        harness.Provider("a").Fail(500).Answer(after: TimeSpan.FromSeconds(1));

        var (results, _) = await harness.RunAsync(() => Task.WhenAll(
            Task.Run(async () => { try { return await harness.Engine.CompleteAsync(EngineHarness.Request("m"), CancellationToken.None); } catch (Baton.Errors.BatonException) { return null; } }),
            Task.Run(async () => { await Task.Yield(); try { return await harness.Engine.CompleteAsync(EngineHarness.Request("m"), CancellationToken.None); } catch (Baton.Errors.BatonException) { return null; } })));

        Assert.Contains(results, r => r is not null);
        Assert.Equal(2, harness.Provider("a").Calls);
    }

    [Fact]
    public async Task A_streamed_answer_is_stored_once_complete_and_served_to_a_plain_request()
    {
        var harness = Cached();

        var (chunks, route) = await StreamAsync(harness);
        var (plain, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        Assert.Equal(CacheStatus.Miss, route.Cache);
        Assert.Equal(CacheStatus.Hit, plain.Route.Cache);
        Assert.Equal("a-0 a-1 a-2 ", Content(plain.Body));
        Assert.Equal(1, harness.Provider("a").Calls);
        Assert.True(chunks.Count >= 5);
    }

    [Fact]
    public async Task A_streamed_request_is_answered_from_the_cache_as_chunks()
    {
        var harness = Cached();
        var (plain, _) = await harness.CompleteAsync(EngineHarness.Request("m"));

        var (chunks, route) = await StreamAsync(harness);

        Assert.Equal(CacheStatus.Hit, route.Cache);
        Assert.Equal(1, harness.Provider("a").Calls);
        var text = string.Concat(chunks.Select(c => JsonDocument.Parse(c).RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out _))
            .Select(c => c[0].GetProperty("delta").GetProperty("content").GetString()));
        Assert.Equal(Content(plain.Body), text);
        Assert.Equal(0, JsonDocument.Parse(chunks[^1]).RootElement.GetProperty("choices").GetArrayLength());
        Assert.Contains("\"finish_reason\":\"stop\"", chunks[^2]);
    }

    [Fact]
    public async Task A_stream_cut_and_resumed_is_not_stored()
    {
        var harness = new EngineHarness();
        harness.Model("m", "a", "b");
        harness.UseCache();
        harness.Provider("a").StreamThenBreak(1);

        var (_, route) = await StreamAsync(harness);

        Assert.True(route.StreamResumed);
        Assert.Equal(0, harness.Cache!.Statistics().Entries);
    }
}
