using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Tests.Auth;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Dashboard;

/// <summary>The admin endpoints behind the dashboard, over real HTTP, with keys on and real requests through the gateway.</summary>
public sealed class AdminMonitoringEndpointTests
{
    private static readonly string[] Endpoints = ["/admin/stats", "/admin/requests", "/admin/deployments", "/admin/budgets", "/admin/cache", "/admin/batches"];

    private static Task<AuthGateway> StartAsync(bool budgets = false) => AuthGateway.StartAsync(configure: options =>
    {
        options.Models["limited-rpm-sim"] = new ModelOptions
        {
            Deployments = [new DeploymentOptions { Provider = "sim-local", Model = "baton-sim-limited", RateLimits = new RateLimitOptions { RequestsPerMinute = 2, TokensPerMinute = 100_000 } }],
        };
        if (!budgets)
        {
            return;
        }
        options.Budgets.Limits["global-daily"] = new BudgetLimitOptions { Scope = BudgetScopes.Global, Period = BudgetPeriods.Daily, HardUsd = 10m, SoftUsd = 5m };
        options.Budgets.Limits["per-key"] = new BudgetLimitOptions { Scope = BudgetScopes.Key, Period = BudgetPeriods.Monthly, HardUsd = 2m };
    });

    [Fact]
    public async Task Every_endpoint_needs_the_master_key()
    {
        await using var gateway = await StartAsync();
        var (_, secret) = await gateway.CreateKeyAsync("""{"name":"app"}""");
        using var member = gateway.Client(secret);
        using var master = gateway.Client(AuthGateway.MasterKey);
        foreach (var endpoint in Endpoints)
        {
            using var anonymous = await gateway.Anonymous.GetAsync(endpoint);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("invalid_api_key", await AuthGateway.ErrorCodeAsync(anonymous));
            using var refused = await member.GetAsync(endpoint);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("master_key_required", await AuthGateway.ErrorCodeAsync(refused));
            using var allowed = await master.GetAsync(endpoint);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            Assert.Equal("application/json", allowed.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Stats_and_last_requests_show_the_requests_made_through_the_gateway()
    {
        await using var gateway = await StartAsync();
        var (keyId, secret) = await gateway.CreateKeyAsync("""{"name":"billing-app"}""");
        const string Prompt = "the secret words of the prompt";
        await gateway.Sdk(secret, "gpt-sim").CompleteChatAsync(Prompt);
        await gateway.Sdk(secret, "gpt-sim").CompleteChatAsync(Prompt + " again");
        await foreach (var _ in gateway.Sdk(AuthGateway.MasterKey, "local-sim").CompleteChatStreamingAsync(
            [new UserChatMessage(Prompt)], new ChatCompletionOptions()))
        {
        }
        using var key = gateway.Client(secret);
        using (var failed = await key.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("broken-sim", Prompt))))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }
        using var master = gateway.Client(AuthGateway.MasterKey);

        var statsText = await master.GetStringAsync("/admin/stats");
        var stats = JsonDocument.Parse(statsText).RootElement;
        var window = stats.GetProperty("window");
        Assert.Equal(4, window.GetProperty("requests").GetInt64());
        Assert.Equal(1, window.GetProperty("errors").GetInt64());
        Assert.Equal(0.25, window.GetProperty("error_rate").GetDouble());
        Assert.True(window.GetProperty("output_tokens").GetInt64() > 0);
        Assert.True(window.GetProperty("cost_usd").GetDecimal() > 0);
        Assert.True(window.GetProperty("latency_p50_ms").GetDouble() > 0);
        Assert.True(window.GetProperty("time_to_first_token_p50_ms").GetDouble() > 0);
        Assert.Equal(4, stats.GetProperty("live").GetProperty("requests").GetInt64());
        Assert.Equal(60, stats.GetProperty("minutes").GetArrayLength());
        var model = stats.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "gpt-sim");
        Assert.Equal(2, model.GetProperty("totals").GetProperty("requests").GetInt64());
        Assert.True(model.GetProperty("totals").GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.Equal(2, model.GetProperty("minutes").EnumerateArray().Sum(m => m.GetProperty("requests").GetInt64()));
        var caller = stats.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("name").GetString() == keyId);
        Assert.Equal("billing-app", caller.GetProperty("label").GetString());
        Assert.Equal(3, caller.GetProperty("totals").GetProperty("requests").GetInt64());
        Assert.Contains(stats.GetProperty("keys").EnumerateArray(), k => k.GetProperty("name").GetString() == "master");

        Assert.Equal(3, JsonDocument.Parse(await master.GetStringAsync("/admin/requests?limit=3")).RootElement.GetProperty("data").GetArrayLength());
        var requestsText = await master.GetStringAsync("/admin/requests");
        var requests = JsonDocument.Parse(requestsText).RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(4, requests.Count);
        var times = requests.Select(r => r.GetProperty("time").GetDateTimeOffset()).ToList();
        Assert.Equal(times.OrderDescending(), times);
        var broken = requests.Single(r => r.GetProperty("model").GetString() == "broken-sim");
        Assert.Equal(503, broken.GetProperty("status").GetInt32());
        Assert.Equal("sim-http/baton-sim-1@503", broken.GetProperty("deployment").GetString());
        Assert.Equal(keyId, broken.GetProperty("key_id").GetString());
        Assert.False(string.IsNullOrEmpty(broken.GetProperty("error_code").GetString()));
        var streamed = requests.Single(r => r.GetProperty("stream").GetBoolean());
        Assert.Equal("local-sim", streamed.GetProperty("model").GetString());
        Assert.Equal(200, streamed.GetProperty("status").GetInt32());
        Assert.Equal("master", streamed.GetProperty("key_id").GetString());
        Assert.True(streamed.GetProperty("time_to_first_token_ms").GetDouble() > 0);
        Assert.True(streamed.GetProperty("output_tokens").GetInt32() > 0);
        var first = requests[^1];
        Assert.Equal("gpt-sim", first.GetProperty("model").GetString());
        Assert.Equal("billing-app", first.GetProperty("key_name").GetString());
        Assert.Equal("sim-http/baton-sim-1", first.GetProperty("deployment").GetString());
        Assert.True(first.GetProperty("input_tokens").GetInt32() > 0);
        Assert.True(first.GetProperty("cost_usd").GetDecimal() > 0);
        // What the dashboard shows is about requests, never their content.
        Assert.DoesNotContain("secret words", statsText + requestsText, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, statsText + requestsText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deployments_show_health_breaker_and_rate_limit_headroom()
    {
        await using var gateway = await StartAsync();
        using var master = gateway.Client(AuthGateway.MasterKey);
        (await master.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("limited-rpm-sim")))).EnsureSuccessStatusCode();
        (await master.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("broken-sim")))).Dispose();

        var body = await AuthGateway.ReadJsonAsync(await master.GetAsync("/admin/deployments"));

        Assert.Equal("degraded", body.GetProperty("status").GetString());
        var deployments = body.GetProperty("deployments").EnumerateArray().ToList();
        var limited = deployments.Single(d => d.GetProperty("models").EnumerateArray().Any(m => m.GetString() == "limited-rpm-sim"));
        Assert.Equal("HEALTHY", limited.GetProperty("state").GetString());
        Assert.Equal("closed", limited.GetProperty("breaker").GetString());
        Assert.Equal([.. Baton.Gateway.Tests.Endpoints.ProviderHealthTests.SharedFields, "rate_limit"], limited.EnumerateObject().Select(p => p.Name));
        var limit = limited.GetProperty("rate_limit");
        // Two a minute: one taken, and the next comes back only after 30 s.
        Assert.Equal(2, limit.GetProperty("requests_per_minute").GetInt32());
        Assert.Equal(1, limit.GetProperty("remaining_requests").GetInt32());
        Assert.Equal(0.5, limit.GetProperty("requests_headroom").GetDouble());
        Assert.Equal(100_000, limit.GetProperty("tokens_per_minute").GetInt32());
        Assert.True(limit.GetProperty("tokens_headroom").GetDouble() is > 0.9 and <= 1);
        Assert.Equal(0, limit.GetProperty("in_flight").GetInt32());
        var broken = deployments.Single(d => d.GetProperty("deployment").GetString() == "sim-http/baton-sim-1@503");
        Assert.Equal(1, broken.GetProperty("consecutive_failures").GetInt32());
        Assert.False(string.IsNullOrEmpty(broken.GetProperty("last_error").GetString()));
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("rate_limit").GetProperty("requests_per_minute").ValueKind);
        Assert.DoesNotContain(AuthGateway.MasterKey, body.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Budgets_show_what_each_counter_has_spent_in_its_window()
    {
        await using var gateway = await StartAsync(budgets: true);
        var (keyId, secret) = await gateway.CreateKeyAsync("""{"name":"budgeted","budget_usd":1,"budget_period":"daily"}""");
        using var key = gateway.Client(secret);
        (await key.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("gpt-sim")))).EnsureSuccessStatusCode();
        using var master = gateway.Client(AuthGateway.MasterKey);

        var budgets = (await AuthGateway.ReadJsonAsync(await master.GetAsync("/admin/budgets"))).GetProperty("data").EnumerateArray().ToList();

        var global = budgets.Single(b => b.GetProperty("name").GetString() == "global-daily");
        Assert.Equal("global", global.GetProperty("scope").GetString());
        Assert.Equal("daily", global.GetProperty("period").GetString());
        var spent = global.GetProperty("spent_usd").GetDecimal();
        Assert.True(spent > 0);
        Assert.Equal(10m - spent, global.GetProperty("remaining_usd").GetDecimal());
        Assert.True(global.GetProperty("used").GetDouble() > 0);
        Assert.Equal(DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(1), global.GetProperty("resets_at").GetDateTimeOffset().UtcDateTime);
        var perKey = budgets.Single(b => b.GetProperty("name").GetString() == "per-key" && b.GetProperty("subject").GetString() == keyId);
        Assert.Equal(spent, perKey.GetProperty("spent_usd").GetDecimal());
        Assert.Equal("budgeted", perKey.GetProperty("subject_name").GetString());
        var own = budgets.Single(b => b.GetProperty("name").GetString() == "key-budget");
        Assert.Equal(keyId, own.GetProperty("subject").GetString());
        Assert.Equal(1m, own.GetProperty("hard_usd").GetDecimal());
        Assert.Equal(spent, own.GetProperty("spent_usd").GetDecimal());
    }

    [Fact]
    public async Task Batches_and_cache_come_from_their_stores()
    {
        await using var gateway = await StartAsync();
        using var master = gateway.Client(AuthGateway.MasterKey);
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("batch"), "purpose");
        var line = """{"custom_id":"one","method":"POST","url":"/v1/chat/completions","body":{"model":"local-sim","messages":[{"role":"user","content":"hi"}]}}""";
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(line + "\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "input.jsonl");
        var uploaded = await AuthGateway.ReadJsonAsync(await master.PostAsync("/v1/files", form));
        var created = await AuthGateway.ReadJsonAsync(await master.PostAsync("/v1/batches", AuthGateway.Json(
            $$"""{"input_file_id":"{{uploaded.GetProperty("id").GetString()}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""")));
        var batchId = created.GetProperty("id").GetString();

        var batches = await AuthGateway.ReadJsonAsync(await master.GetAsync("/admin/batches"));
        var listed = Assert.Single(batches.GetProperty("data").EnumerateArray());
        Assert.Equal(batchId, listed.GetProperty("id").GetString());
        Assert.Equal(1, listed.GetProperty("request_counts").GetProperty("total").GetInt32());
        Assert.True(batches.GetProperty("running").GetInt32() is 0 or 1);

        var cache = await AuthGateway.ReadJsonAsync(await master.GetAsync("/admin/cache"));
        Assert.True(cache.TryGetProperty("mode", out _));
        Assert.True(cache.TryGetProperty("hit_rate", out _));
    }

    [Theory]
    [InlineData("/admin/requests?limit=0", "limit")]
    [InlineData("/admin/requests?limit=201", "limit")]
    [InlineData("/admin/stats?minutes=61", "minutes")]
    [InlineData("/admin/stats?minutes=abc", "minutes")]
    [InlineData("/admin/batches?limit=-1", "limit")]
    public async Task A_bad_query_is_a_clear_400(string path, string param)
    {
        await using var gateway = await StartAsync();
        using var master = gateway.Client(AuthGateway.MasterKey);
        using var response = await master.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await AuthGateway.ReadJsonAsync(response)).GetProperty("error");
        Assert.Equal("invalid_value", error.GetProperty("code").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task The_page_is_served_from_the_assembly_to_anyone_with_a_strict_content_policy()
    {
        await using var gateway = await StartAsync();
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(gateway.BaseUrl) };

        using var bare = await noRedirect.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/dashboard/", bare.Headers.Location?.OriginalString);

        using var page = await gateway.Anonymous.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"dashboard.js\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http", html.Replace("http-equiv", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);

        foreach (var (file, type) in new[] { ("dashboard.js", "text/javascript"), ("dashboard.css", "text/css") })
        {
            using var asset = await gateway.Anonymous.GetAsync("/dashboard/" + file);
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
            using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/" + file);
            again.Headers.IfNoneMatch.Add(asset.Headers.ETag!);
            using var unchanged = await gateway.Anonymous.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        }

        using var missing = await gateway.Anonymous.GetAsync("/dashboard/secrets.json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("unknown_url", await AuthGateway.ErrorCodeAsync(missing));
    }
}
