using System.ClientModel;
using System.Net;
using System.Text;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Auth;

/// <summary>Keys at the door: who gets in, through which header, for how long, and what is kept of their keys.</summary>
public sealed class AuthenticationTests
{
    [Fact]
    public async Task Only_health_answers_without_a_key()
    {
        await using var gateway = await AuthGateway.StartAsync();

        using var health = await gateway.Anonymous.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        foreach (var path in new[] { "/v1/models", "/v1/costs", "/v1/files", "/v1/batches", "/v1/cache/stats", "/v1/pipelines", "/openapi/v1.json", "/docs", "/scalar" })
        {
            using var refused = await gateway.Anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("invalid_api_key", await AuthGateway.ErrorCodeAsync(refused));
        }
        using var chat = await gateway.Anonymous.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("local-sim")));
        Assert.Equal(HttpStatusCode.Unauthorized, chat.StatusCode);
        var error = (await AuthGateway.ReadJsonAsync(chat)).GetProperty("error");
        Assert.Equal("authentication_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());

        using var wrong = gateway.Client("bk-not-a-key-of-this-gateway");
        using var unknown = await wrong.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("invalid_api_key", await AuthGateway.ErrorCodeAsync(unknown));

        using var master = gateway.Client(AuthGateway.MasterKey, apiKeyHeader: true);
        using var models = await master.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        using var openApi = await master.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
    }

    [Fact]
    public async Task A_key_is_created_used_changed_and_revoked_with_the_official_sdk()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var master = gateway.Client(AuthGateway.MasterKey);

        using var created = await master.PostAsync("/admin/keys", AuthGateway.Json("""
            {"name":"ci","models":["local-sim","gpt-sim"],"rpm":100,"budget_usd":5,"budget_period":"monthly","tags":["team-a"],"metadata":{"owner":"ana"}}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await AuthGateway.ReadJsonAsync(created);
        var id = key.GetProperty("id").GetString()!;
        var secret = key.GetProperty("key").GetString()!;
        Assert.StartsWith("bk-", secret, StringComparison.Ordinal);
        Assert.Equal("ci", key.GetProperty("name").GetString());
        Assert.Equal(["local-sim", "gpt-sim"], key.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(100, key.GetProperty("rpm").GetInt32());
        Assert.Equal(5m, key.GetProperty("budget_usd").GetDecimal());
        Assert.Equal("monthly", key.GetProperty("budget_period").GetString());
        Assert.Equal("ana", key.GetProperty("metadata").GetProperty("owner").GetString());
        Assert.Equal("active", key.GetProperty("status").GetString());

        var answer = await gateway.Sdk(secret, "local-sim").CompleteChatAsync([new UserChatMessage("hello")]);
        Assert.False(string.IsNullOrEmpty(answer.Value.Content[0].Text));

        // The secret is in the creating answer only.
        var list = await master.GetStringAsync("/admin/keys");
        Assert.Contains(id, list, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list, StringComparison.Ordinal);
        var one = await master.GetStringAsync($"/admin/keys/{id}");
        Assert.DoesNotContain(secret, one, StringComparison.Ordinal);
        var spend = System.Text.Json.JsonDocument.Parse(one).RootElement.GetProperty("spend");
        Assert.Equal(1, spend.GetProperty("requests").GetInt64());
        Assert.True(spend.GetProperty("total_usd").GetDecimal() > 0);
        Assert.Equal(spend.GetProperty("total_usd").GetDecimal(), spend.GetProperty("budget").GetProperty("spent_usd").GetDecimal());

        using var patched = await master.PatchAsync($"/admin/keys/{id}", AuthGateway.Json("""{"models":["gpt-sim"],"rpm":null}"""));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var changed = await AuthGateway.ReadJsonAsync(patched);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, changed.GetProperty("rpm").ValueKind);
        Assert.Equal("ci", changed.GetProperty("name").GetString());
        var forbidden = await Assert.ThrowsAsync<ClientResultException>(() => gateway.Sdk(secret, "local-sim").CompleteChatAsync([new UserChatMessage("hello")]));
        Assert.Equal(403, forbidden.Status);
        Assert.Contains("model_not_allowed", forbidden.Message, StringComparison.Ordinal);
        await gateway.Sdk(secret, "gpt-sim").CompleteChatAsync([new UserChatMessage("hello")]);

        using var revoked = await master.DeleteAsync($"/admin/keys/{id}");
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal("revoked", (await AuthGateway.ReadJsonAsync(revoked)).GetProperty("status").GetString());
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => gateway.Sdk(secret, "gpt-sim").CompleteChatAsync([new UserChatMessage("hello")]));
        Assert.Equal(401, refused.Status);
        Assert.Contains("invalid_api_key", refused.Message, StringComparison.Ordinal);
        using var gone = await master.GetAsync("/admin/keys/key_000000000000000000000000");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task The_x_api_key_header_works_as_anthropic_sdks_send_it()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (_, secret) = await gateway.CreateKeyAsync();
        using var client = gateway.Client(secret, apiKeyHeader: true);

        using var response = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("local-sim")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Administration_cache_purge_and_health_probes_are_for_the_master_key()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (id, secret) = await gateway.CreateKeyAsync();
        using var virtualKey = gateway.Client(secret);

        foreach (var request in new Func<HttpClient, Task<HttpResponseMessage>>[]
                 {
                     c => c.PostAsync("/admin/keys", AuthGateway.Json("{}")),
                     c => c.GetAsync("/admin/keys"),
                     c => c.GetAsync($"/admin/keys/{id}"),
                     c => c.PatchAsync($"/admin/keys/{id}", AuthGateway.Json("""{"rpm":1000}""")),
                     c => c.DeleteAsync($"/admin/keys/{id}"),
                     c => c.DeleteAsync("/v1/cache"),
                     c => c.GetAsync("/health/providers?probe=true"),
                 })
        {
            using var forbidden = await request(virtualKey);
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Equal("master_key_required", await AuthGateway.ErrorCodeAsync(forbidden));
            using var anonymous = await request(gateway.Anonymous);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        using var master = gateway.Client(AuthGateway.MasterKey);
        using var purged = await master.DeleteAsync("/v1/cache");
        Assert.Equal(HttpStatusCode.OK, purged.StatusCode);
        // The key survived the attempts to revoke it.
        using var stillThere = await virtualKey.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
    }

    [Fact]
    public async Task Bad_key_settings_are_refused_with_the_field_named()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var master = gateway.Client(AuthGateway.MasterKey);
        foreach (var (body, param) in new[]
                 {
                     ("""{"rpm":0}""", "rpm"),
                     ("""{"tpm":"many"}""", "tpm"),
                     ("""{"budget_usd":-1}""", "budget_usd"),
                     ("""{"budget_period":"weekly"}""", "budget_period"),
                     ("""{"expires_at":"tomorrow"}""", "expires_at"),
                     ("""{"expires_at":"2001-01-01T00:00:00Z"}""", "expires_at"),
                     ("""{"models":["no-such-model"]}""", "models"),
                     ("""{"metadata":[1]}""", "metadata"),
                     ("""{"owner":"me"}""", "owner"),
                     ("[1]", null),
                 })
        {
            using var response = await master.PostAsync("/admin/keys", AuthGateway.Json(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(param, (await AuthGateway.ReadJsonAsync(response)).GetProperty("error").GetProperty("param").GetString());
        }

        // JSON only, as on every JSON endpoint: a page could send a form or text/plain without a preflight.
        var (id, _) = await gateway.CreateKeyAsync();
        foreach (var request in new[]
                 {
                     new HttpRequestMessage(HttpMethod.Post, "/admin/keys") { Content = new StringContent("""{"name":"x"}""", System.Text.Encoding.UTF8, "text/plain") },
                     new HttpRequestMessage(HttpMethod.Patch, $"/admin/keys/{id}") { Content = new FormUrlEncodedContent([new("name", "x")]) },
                 })
        {
            using (request)
            {
                using var response = await master.SendAsync(request);
                Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
                Assert.Equal("unsupported_media_type", await AuthGateway.ErrorCodeAsync(response));
            }
        }
    }

    [Fact]
    public async Task A_key_stops_working_when_it_expires()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        await using var gateway = await AuthGateway.StartAsync(time);
        var (id, secret) = await gateway.CreateKeyAsync("""{"expires_at":"2026-06-01T13:00:00Z"}""");
        using var client = gateway.Client(secret);

        using var before = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        time.Advance(TimeSpan.FromMinutes(61));

        using var after = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("invalid_api_key", await AuthGateway.ErrorCodeAsync(after));
        using var master = gateway.Client(AuthGateway.MasterKey);
        Assert.Contains("\"status\":\"expired\"", await master.GetStringAsync($"/admin/keys/{id}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_key_secret_is_in_any_database_file_or_log()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var secrets = new List<string> { AuthGateway.MasterKey };
        for (var i = 0; i < 3; i++)
        {
            var (id, secret) = await gateway.CreateKeyAsync($$"""{"name":"key-{{i}}","budget_usd":1}""");
            secrets.Add(secret);
            using var client = gateway.Client(secret);
            using var chat = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("local-sim", extra: ",\"user\":\"u\"")));
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            using var refused = await client.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("no-such-model")));
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            using var master = gateway.Client(AuthGateway.MasterKey);
            (await master.DeleteAsync($"/admin/keys/{id}")).Dispose();
            using var revoked = await client.GetAsync("/v1/models");
            Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        }
        Assert.NotEmpty(await gateway.LedgerRowsAsync());

        var files = Directory.GetFiles(gateway.Directory, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith(".db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            foreach (var secret in secrets)
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"a key is in {Path.GetFileName(file)}");
            }
        }
        Assert.NotEmpty(gateway.Logs);
        foreach (var line in gateway.Logs)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, line, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Without_keys_the_gateway_will_not_listen_beyond_loopback()
    {
        var options = GatewayServer.CreateOptions("http://127.0.0.1:1");

        var error = Assert.Throws<BatonConfigurationException>(() => BatonHosts.BuildGateway(options, "http://0.0.0.0:0", LogLevel.Warning, _ => "k"));
        Assert.Contains("auth.masterKeyEnv", Assert.Single(error.Errors), StringComparison.Ordinal);
        Assert.Contains("auth.allowAnonymous", error.Errors[0], StringComparison.Ordinal);
        Assert.Null(BatonHosts.ExposedWithoutKeys(options, "http://127.0.0.1:8080;http://localhost:8081;http://[::1]:8082"));
        Assert.Equal("http://*:8080", BatonHosts.ExposedWithoutKeys(options, "http://127.0.0.1:8080;http://*:8080"));
        Assert.Equal("http://192.168.1.10:8080", BatonHosts.ExposedWithoutKeys(options, "http://192.168.1.10:8080"));
        Assert.Equal("http://[::]:8080", BatonHosts.ExposedWithoutKeys(options, "http://[::]:8080"));

        options.Auth.AllowAnonymous = true;
        Assert.Null(BatonHosts.ExposedWithoutKeys(options, "http://0.0.0.0:8080"));
        options.Auth.AllowAnonymous = false;
        options.Auth.MasterKeyEnv = "SOME_KEY";
        Assert.Null(BatonHosts.ExposedWithoutKeys(options, "http://0.0.0.0:8080"));
    }

    [Fact]
    public async Task Serve_refuses_a_public_address_without_keys_in_one_line()
    {
        var directory = Directory.CreateTempSubdirectory("baton-serve-").FullName;
        try
        {
            var (exit, _, error) = await CliRun.RunAsync(directory, "", "serve", "--urls", "http://0.0.0.0:0");

            Assert.Equal(2, exit);
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains("http://0.0.0.0:0", line, StringComparison.Ordinal);
            Assert.Contains("auth.masterKeyEnv", line, StringComparison.Ordinal);
            Assert.Contains("auth.allowAnonymous: true", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_missing_master_key_variable_is_a_clear_error_at_start()
    {
        var options = GatewayServer.CreateOptions("http://127.0.0.1:1");
        options.Auth.MasterKeyEnv = "BATON_UNSET_MASTER_KEY";

        var missing = Assert.Throws<BatonConfigurationException>(() => BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning,
            name => name == "SIM_KEY" ? "k" : null));
        Assert.Contains(missing.Errors, e => e.StartsWith("auth.masterKeyEnv:", StringComparison.Ordinal) && e.Contains("BATON_UNSET_MASTER_KEY", StringComparison.Ordinal));

        var empty = Assert.Throws<BatonConfigurationException>(() => BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning,
            name => name == "SIM_KEY" ? "k" : "  "));
        Assert.Contains(empty.Errors, e => e.StartsWith("auth.masterKeyEnv:", StringComparison.Ordinal));

        var tooShort = Assert.Throws<BatonConfigurationException>(() => BatonHosts.BuildGateway(options, "http://127.0.0.1:0", LogLevel.Warning,
            name => name == "SIM_KEY" ? "k" : "short"));
        Assert.Contains(tooShort.Errors, e => e.StartsWith("auth.masterKeyEnv:", StringComparison.Ordinal) && e.Contains("shorter", StringComparison.Ordinal));
    }
}
