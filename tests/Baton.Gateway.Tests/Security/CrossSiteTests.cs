using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Security;

namespace Baton.Gateway.Tests.Security;

/// <summary>
/// What keeps web pages away from a gateway on the user's machine: the Host check against DNS rebinding, the
/// allowed hosts that widen it, and CORS, off unless configured.
/// </summary>
public sealed class CrossSiteTests
{
    private const string Chat = """{"model":"scout","messages":[{"role":"user","content":"hi"}]}""";

    private static async Task<HttpResponseMessage> SendAsync(SecurityGateway gateway, HttpMethod method, string path, string? host = null,
        string? origin = null, string? body = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (host is not null)
        {
            request.Headers.Host = host;
        }
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        configure?.Invoke(request);
        return await gateway.Http.SendAsync(request);
    }

    private static async Task AssertHostRefusedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("host_not_allowed", error.GetProperty("code").GetString());
        Assert.Equal("Host", error.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task On_loopback_only_loopback_names_are_served_with_any_port()
    {
        await using var gateway = await SecurityGateway.StartAsync();

        foreach (var host in new[] { "localhost", $"localhost:{gateway.Port}", "LOCALHOST:1", "127.0.0.1", $"127.0.0.1:{gateway.Port}", "[::1]", "[::1]:9" })
        {
            using var response = await SendAsync(gateway, HttpMethod.Post, "/v1/chat/completions", host, body: Chat);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"Host: {host} got {(int)response.StatusCode}");
        }
        foreach (var host in new[] { "evil.example", $"evil.example:{gateway.Port}", "127.0.0.2", "localhost.evil.example", "[::2]:80", "baton.internal" })
        {
            using var response = await SendAsync(gateway, HttpMethod.Post, "/v1/chat/completions", host, body: Chat);
            await AssertHostRefusedAsync(response);
        }
        // Reads are refused too: after rebinding, a page could read what they answer.
        using var costs = await SendAsync(gateway, HttpMethod.Get, "/v1/costs", "evil.example");
        await AssertHostRefusedAsync(costs);
    }

    [Fact]
    public async Task Configured_allowed_hosts_are_served_and_others_still_refused()
    {
        await using var gateway = await SecurityGateway.StartAsync(o => o.Gateway.AllowedHosts = ["baton.internal", "Gateway.Example"]);

        using (var allowed = await SendAsync(gateway, HttpMethod.Get, "/v1/models", $"baton.internal:{gateway.Port}"))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }
        using (var caseInsensitive = await SendAsync(gateway, HttpMethod.Get, "/v1/models", "gateway.example"))
        {
            Assert.Equal(HttpStatusCode.OK, caseInsensitive.StatusCode);
        }
        using (var loopback = await SendAsync(gateway, HttpMethod.Get, "/v1/models", "localhost"))
        {
            Assert.Equal(HttpStatusCode.OK, loopback.StatusCode);
        }
        using var other = await SendAsync(gateway, HttpMethod.Get, "/v1/models", "evil.example");
        await AssertHostRefusedAsync(other);
    }

    [Fact]
    public async Task A_wildcard_allowed_host_turns_the_check_off()
    {
        await using var gateway = await SecurityGateway.StartAsync(o => o.Gateway.AllowedHosts = ["*"]);

        using var response = await SendAsync(gateway, HttpMethod.Get, "/v1/models", "anything.example");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("localhost:8080", "localhost")]
    [InlineData("[::1]:8080", "[::1]")]
    [InlineData("[::1]", "[::1]")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("[broken", "[broken")]
    public void The_port_is_taken_off_the_host(string header, string host) =>
        Assert.Equal(host, LoopbackHostFilter.WithoutPort(header).ToString());

    [Fact]
    public async Task Cors_is_off_by_default()
    {
        await using var gateway = await SecurityGateway.StartAsync();

        using var preflight = await SendAsync(gateway, HttpMethod.Options, "/v1/chat/completions", origin: "https://app.example.com", configure: r =>
        {
            r.Headers.Add("Access-Control-Request-Method", "POST");
            r.Headers.Add("Access-Control-Request-Headers", "authorization, content-type");
        });
        Assert.Equal(HttpStatusCode.MethodNotAllowed, preflight.StatusCode);
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal("method_not_allowed", JsonDocument.Parse(await preflight.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());

        using var simple = await SendAsync(gateway, HttpMethod.Get, "/v1/models", origin: "https://app.example.com");
        Assert.Equal(HttpStatusCode.OK, simple.StatusCode);
        Assert.False(simple.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Cors_answers_the_configured_origins_only()
    {
        await using var gateway = await SecurityGateway.StartAsync(o => o.Gateway.Cors.AllowedOrigins = ["https://app.example.com", "http://localhost:3000"]);

        using (var preflight = await SendAsync(gateway, HttpMethod.Options, "/v1/chat/completions", origin: "https://app.example.com", configure: r =>
        {
            r.Headers.Add("Access-Control-Request-Method", "POST");
            r.Headers.Add("Access-Control-Request-Headers", "authorization, content-type");
        }))
        {
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Equal("https://app.example.com", Assert.Single(preflight.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Contains("POST", string.Join(",", preflight.Headers.GetValues("Access-Control-Allow-Methods")), StringComparison.Ordinal);
            Assert.Contains("authorization", string.Join(",", preflight.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
            Assert.False(preflight.Headers.Contains("Access-Control-Allow-Credentials"));
        }

        // An admin page updates a key with PATCH.
        using (var patchPreflight = await SendAsync(gateway, HttpMethod.Options, "/admin/keys/key_1", origin: "https://app.example.com", configure: r =>
            r.Headers.Add("Access-Control-Request-Method", "PATCH")))
        {
            Assert.Equal(HttpStatusCode.NoContent, patchPreflight.StatusCode);
            Assert.Contains("PATCH", string.Join(",", patchPreflight.Headers.GetValues("Access-Control-Allow-Methods")), StringComparison.Ordinal);
        }

        using (var post = await SendAsync(gateway, HttpMethod.Post, "/v1/chat/completions", origin: "http://localhost:3000", body: Chat))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            Assert.Equal("http://localhost:3000", Assert.Single(post.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Contains("x-baton-model", string.Join(",", post.Headers.GetValues("Access-Control-Expose-Headers")), StringComparison.OrdinalIgnoreCase);
        }

        using (var otherPreflight = await SendAsync(gateway, HttpMethod.Options, "/v1/chat/completions", origin: "https://evil.example", configure: r =>
            r.Headers.Add("Access-Control-Request-Method", "POST")))
        {
            Assert.False(otherPreflight.Headers.Contains("Access-Control-Allow-Origin"));
        }
        using var otherGet = await SendAsync(gateway, HttpMethod.Get, "/v1/models", origin: "https://evil.example");
        Assert.False(otherGet.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Cors_for_any_origin_when_configured_with_a_wildcard()
    {
        await using var gateway = await SecurityGateway.StartAsync(o => o.Gateway.Cors.AllowedOrigins = ["*"]);

        using var response = await SendAsync(gateway, HttpMethod.Get, "/v1/models", origin: "https://anywhere.example");

        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
    }
}
