using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Gateway.Tests.Auth;

/// <summary>A virtual key's models, limits and budget, on every path a request can take.</summary>
public sealed class KeyEnforcementTests
{
    [Fact]
    public async Task A_model_outside_the_key_is_refused_on_chat_batch_and_pipeline_paths()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (_, secret) = await gateway.CreateKeyAsync("""{"models":["gpt-sim"]}""");
        using var client = gateway.Client(secret);

        using var chat = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("local-sim")));
        Assert.Equal(HttpStatusCode.Forbidden, chat.StatusCode);
        Assert.Equal("model_not_allowed", await AuthGateway.ErrorCodeAsync(chat));

        // A fallback the key may not use is skipped, never used behind the key's back.
        using var fallback = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(
            AuthGateway.Chat("gpt-sim", extra: ""","metadata":{"fallbacks":"local-sim"}""")));
        Assert.Equal(HttpStatusCode.OK, fallback.StatusCode);
        Assert.Equal("gpt-sim", fallback.Headers.GetValues("x-baton-model").Single());

        // /batch names an upstream model of a provider: it is allowed only as a model the key may use.
        using var batch = await client.PostAsync("/batch", AuthGateway.Json("""
            {"requests":[{"provider":"sim-http","model":"baton-sim-1","messages":[{"role":"user","content":"hi"}]},
                         {"provider":"sim-local","model":"baton-sim-1","messages":[{"role":"user","content":"hi"}]}]}
            """));
        Assert.Equal(HttpStatusCode.Forbidden, batch.StatusCode);
        var batchError = (await AuthGateway.ReadJsonAsync(batch)).GetProperty("error");
        Assert.Equal("model_not_allowed", batchError.GetProperty("code").GetString());
        Assert.Equal("requests[1].model", batchError.GetProperty("param").GetString());

        var models = JsonDocument.Parse(await client.GetStringAsync("/v1/models")).RootElement.GetProperty("data");
        Assert.Equal(["gpt-sim"], models.EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        using var pipeline = await client.PostAsync("/v1/pipelines/echo/runs", AuthGateway.Json("""{"input":{"text":"hi"}}"""));
        Assert.Equal(HttpStatusCode.Forbidden, pipeline.StatusCode);
        Assert.Equal("model_not_allowed", await AuthGateway.ErrorCodeAsync(pipeline));
    }

    [Fact]
    public async Task A_batch_file_line_for_a_model_outside_the_key_fails_alone()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (_, secret) = await gateway.CreateKeyAsync("""{"models":["gpt-sim"]}""");
        using var client = gateway.Client(secret);
        var batch = await OwnershipTests.RunBatchAsync(client, OwnershipTests.Line("allowed", "gpt-sim"), OwnershipTests.Line("refused", "local-sim"));

        Assert.Equal(1, batch.GetProperty("request_counts").GetProperty("completed").GetInt32());
        Assert.Equal(1, batch.GetProperty("request_counts").GetProperty("failed").GetInt32());
        var errors = await client.GetStringAsync($"/v1/files/{batch.GetProperty("error_file_id").GetString()}/content");
        var line = JsonDocument.Parse(errors.Trim()).RootElement;
        Assert.Equal("refused", line.GetProperty("custom_id").GetString());
        Assert.Equal(403, line.GetProperty("error").GetProperty("status_code").GetInt32());
        Assert.Equal("model_not_allowed", line.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Requests_past_the_keys_rpm_are_refused_at_once_until_the_bucket_refills()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        await using var gateway = await AuthGateway.StartAsync(time);
        var (_, secret) = await gateway.CreateKeyAsync("""{"rpm":2}""");
        using var client = gateway.Client(secret);

        for (var i = 0; i < 2; i++)
        {
            using var ok = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim")));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var refused = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim")));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("rate_limited", await AuthGateway.ErrorCodeAsync(refused));
        Assert.Equal(TimeSpan.FromSeconds(30), refused.Headers.RetryAfter!.Delta);

        // Another key is not held back by this one's limit.
        var (_, other) = await gateway.CreateKeyAsync("""{"rpm":2}""");
        using var otherClient = gateway.Client(other);
        using var otherOk = await otherClient.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim")));
        Assert.Equal(HttpStatusCode.OK, otherOk.StatusCode);

        time.Advance(TimeSpan.FromSeconds(30));
        using var again = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim")));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Tokens_past_the_keys_tpm_are_refused_with_the_wait()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        await using var gateway = await AuthGateway.StartAsync(time);
        var (_, secret) = await gateway.CreateKeyAsync("""{"tpm":60}""");
        using var client = gateway.Client(secret);
        var prompt = string.Join(' ', Enumerable.Repeat("word", 40));

        using var first = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim", prompt, ""","max_tokens":20""")));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var refused = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim", prompt, ""","max_tokens":20""")));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("rate_limited", await AuthGateway.ErrorCodeAsync(refused));
        Assert.True(refused.Headers.RetryAfter!.Delta > TimeSpan.Zero);

        time.Advance(TimeSpan.FromMinutes(2));
        using var again = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim", prompt, ""","max_tokens":20""")));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_request_past_the_keys_max_parallel_is_refused_while_another_is_in_flight()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (_, secret) = await gateway.CreateKeyAsync("""{"max_parallel":1}""");
        using var client = gateway.Client(secret);
        using var stop = new CancellationTokenSource();

        // Never answers: it holds the key's only slot until the client gives up. The gateway calls upstream only once
        // the slot is taken, so the simulator seeing the call is the signal that it is held.
        var upstreamCalled = gateway.NextUpstreamCall;
        using var hang = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = AuthGateway.Json(AuthGateway.Chat("hang-http-sim", extra: ""","stream":true""")),
        };
        hang.Headers.Add(AuthGateway.RequestTagHeader, "hanging");
        var hanging = client.SendAsync(hang, stop.Token);
        await upstreamCalled.WaitAsync(TimeSpan.FromSeconds(30));

        using (var refused = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim"))))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("rate_limited", await AuthGateway.ErrorCodeAsync(refused));
        }

        // The client gives up; the gateway gives the slot back as it ends the abandoned request.
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hanging);
        await gateway.RequestEnded("hanging").WaitAsync(TimeSpan.FromSeconds(30));
        using var freed = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim")));
        Assert.Equal(HttpStatusCode.OK, freed.StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_cannot_overshoot_the_keys_budget()
    {
        await using var gateway = await AuthGateway.StartAsync();
        const decimal Budget = 0.0005m;
        var (id, secret) = await gateway.CreateKeyAsync($$"""{"budget_usd":{{Budget}}}""");
        using var client = gateway.Client(secret);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(
                AuthGateway.Chat("gpt-sim", $"question {i}", ""","max_tokens":40,"metadata":{"cache_disabled":true}""")));
            return (response.StatusCode, Code: response.StatusCode == HttpStatusCode.OK ? null : await AuthGateway.ErrorCodeAsync(response));
        }));

        var answered = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.InRange(answered, 1, 49);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
            Assert.Equal("budget_exceeded", r.Code);
        });
        var rows = (await gateway.LedgerRowsAsync()).Where(r => r.ApiKey == id).ToList();
        Assert.Equal(answered, rows.Count);
        // Each request reserved its worst case (its prompt and max_tokens) before being sent, so what was spent
        // stays within the budget however the 50 interleaved.
        Assert.True(rows.Sum(r => r.Cost) <= Budget, $"spent {rows.Sum(r => r.Cost)} of {Budget}");
        using var master = gateway.Client(AuthGateway.MasterKey);
        var budget = JsonDocument.Parse(await master.GetStringAsync($"/admin/keys/{id}")).RootElement.GetProperty("spend").GetProperty("budget");
        Assert.Equal(rows.Sum(r => r.Cost), budget.GetProperty("spent_usd").GetDecimal());
        Assert.Equal(0m, budget.GetProperty("reserved_usd").GetDecimal());
    }
}
