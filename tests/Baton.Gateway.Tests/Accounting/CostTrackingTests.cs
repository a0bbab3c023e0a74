using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Baton.Gateway.Tests.Accounting;

/// <summary>Costs over real HTTP: response headers, the ledger under load, <c>GET /v1/costs</c>, and budgets.</summary>
public sealed class CostTrackingTests(AccountingGatewayServer server) : IClassFixture<AccountingGatewayServer>
{
    private static StringContent Body(string session, bool stream = false, string extra = "") => new(
        $$"""{"model":"gpt-sim","stream":{{(stream ? "true" : "false")}},{{(stream ? "\"stream_options\":{\"include_usage\":true}," : "")}}"metadata":{"session_id":"{{session}}"}{{extra}},"messages":[{"role":"user","content":"How much does this cost?"}]}""",
        Encoding.UTF8, "application/json");

    private const string CostPrefix = ": x-baton-cost-usd ";

    private sealed record Usage(long Prompt, long Completion, long Reasoning, decimal Cost);

    private async Task<Usage> AskAsync(string session, bool stream, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body(session, stream) };
        request.Headers.Add("X-Baton-Stream-Cost", "true");
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        if (!stream)
        {
            var usage = JsonDocument.Parse(text).RootElement.GetProperty("usage");
            var cost = decimal.Parse(response.Headers.GetValues("x-baton-cost-usd").Single(), CultureInfo.InvariantCulture);
            return new Usage(usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64(),
                usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt64(), cost);
        }
        var lines = text.Split('\n');
        var usageChunk = lines.Where(l => l.StartsWith("data: {", StringComparison.Ordinal)).Select(l => JsonDocument.Parse(l[6..]).RootElement)
            .Single(c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object).GetProperty("usage");
        var costLine = lines.Single(l => l.StartsWith(CostPrefix, StringComparison.Ordinal));
        Assert.EndsWith("data: [DONE]", text.TrimEnd());
        return new Usage(usageChunk.GetProperty("prompt_tokens").GetInt64(), usageChunk.GetProperty("completion_tokens").GetInt64(),
            usageChunk.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt64(),
            decimal.Parse(costLine[CostPrefix.Length..], CultureInfo.InvariantCulture));
    }

    private async Task<JsonElement> CostsAsync(string query)
    {
        using var response = await server.Http.GetAsync("/v1/costs" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task A_thousand_concurrent_requests_are_a_thousand_rows_that_add_up_to_what_clients_were_told()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => AskAsync("load", stream: i % 4 == 0)));

        var report = await CostsAsync("?session_id=load");
        var total = report.GetProperty("total");
        Assert.Equal(1000, total.GetProperty("requests").GetInt64());
        Assert.Equal(1000, server.Scalar("SELECT COUNT(*) FROM ledger WHERE session = 'load'"));
        Assert.Equal(answers.Sum(a => a.Prompt), total.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(answers.Sum(a => a.Completion), total.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(answers.Sum(a => a.Reasoning), total.GetProperty("reasoning_tokens").GetInt64());
        Assert.Equal(answers.Sum(a => a.Cost), total.GetProperty("cost_usd").GetDecimal());
        // Each answer's cost is its usage at the configured prices ($1 in, $2 out per million).
        Assert.All(answers, a => Assert.Equal(((a.Prompt * 1m) + (a.Completion * 2m)) / 1_000_000m, a.Cost));
    }

    [Fact]
    public async Task Costs_break_down_by_model_tier_task_key_and_day()
    {
        await AskAsync("grouped", stream: false, apiKey: "sk-client-secret-1");
        await AskAsync("grouped", stream: true, apiKey: "sk-client-secret-2");
        using (var routed = await server.Http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"auto","metadata":{"session_id":"grouped","task":"propose_fix"},"messages":[{"role":"user","content":"fix it"}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
        }

        var byModel = await CostsAsync("?session_id=grouped&group_by=model");
        Assert.Equal(3, byModel.GetProperty("total").GetProperty("requests").GetInt64());
        Assert.Equal("gpt-sim", byModel.GetProperty("breakdown")[0].GetProperty("key").GetString());

        var byTier = await CostsAsync("?session_id=grouped&group_by=tier");
        Assert.Equal(["(none)", "coding"], byTier.GetProperty("breakdown").EnumerateArray().Select(g => g.GetProperty("key").GetString()).Order());
        var byTask = await CostsAsync("?session_id=grouped&group_by=task");
        Assert.Contains("propose_fix", byTask.GetProperty("breakdown").EnumerateArray().Select(g => g.GetProperty("key").GetString()));

        var byKey = await CostsAsync("?session_id=grouped&group_by=key");
        var keys = byKey.GetProperty("breakdown").EnumerateArray().Select(g => g.GetProperty("key").GetString()!).ToList();
        Assert.Equal(3, keys.Count);
        Assert.Equal(2, keys.Count(k => k.StartsWith("key-", StringComparison.Ordinal) && k.Length == 20));
        // The raw keys are never stored.
        Assert.DoesNotContain("sk-client-secret", await File.ReadAllTextAsync(server.LedgerPath + "-wal") + await File.ReadAllTextAsync(server.LedgerPath));

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var byDay = await CostsAsync($"?session_id=grouped&group_by=day&since={today}");
        Assert.Equal(today, byDay.GetProperty("breakdown")[0].GetProperty("key").GetString());
        var future = await CostsAsync("?session_id=grouped&since=2999-01-01T00:00:00Z");
        Assert.Equal(0, future.GetProperty("total").GetProperty("requests").GetInt64());
    }

    [Theory]
    [InlineData("?group_by=color", "group_by")]
    [InlineData("?since=yesterday", "since")]
    [InlineData("?until=2026-13-45", "until")]
    [InlineData("?since=2026-02-01&until=2026-01-01", "until")]
    [InlineData("?session=abc", "session")]
    [InlineData("?group_by=model&group_by=tier", "group_by")]
    [InlineData("?session_id=", "session_id")]
    public async Task Malformed_query_parameters_are_a_400_naming_them(string query, string param)
    {
        using var response = await server.Http.GetAsync("/v1/costs" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains(param, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_request_over_a_hard_budget_is_refused_in_openai_shape()
    {
        using var response = await server.Http.PostAsync("/v1/chat/completions", Body("capped"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("budget_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("insufficient_quota", error.GetProperty("type").GetString());
        Assert.Contains("'capped'", error.GetProperty("message").GetString());
        Assert.Equal(0, (await CostsAsync("?session_id=capped")).GetProperty("total").GetProperty("requests").GetInt64());
    }

    [Fact]
    public async Task Crossing_a_soft_budget_adds_a_warning_header_streamed_or_not()
    {
        using var plain = await server.Http.PostAsync("/v1/chat/completions", Body("watched"));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Contains("soft limit", plain.Headers.GetValues("x-baton-budget-warning").Single());

        using var streamed = await server.Http.PostAsync("/v1/chat/completions", Body("watched", stream: true));
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Contains("'watched'", streamed.Headers.GetValues("x-baton-budget-warning").Single());

        using var other = await server.Http.PostAsync("/v1/chat/completions", Body("unwatched"));
        Assert.False(other.Headers.Contains("x-baton-budget-warning"));
    }
}
