using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Batching;

/// <summary><c>POST /batch</c> over real HTTP, seed 001's contract.</summary>
public sealed class BatchEndpointTests(GatewayServer gateway) : IClassFixture<GatewayServer>
{
    private Task<HttpResponseMessage> PostAsync(string json) =>
        gateway.Http.PostAsync("/batch", new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Seed_001s_example_batch_is_answered_in_order_with_its_statistics()
    {
        using var response = await PostAsync("""
            {"requests": [
              {"request_id": "req-1", "provider": "sim-http", "model": "google/gemma-3-27b-it:free",
               "messages": [{"role": "user", "content": "Tell me a short story about a cat."}], "temperature": 0.5, "max_tokens": 150},
              {"request_id": "req-2", "provider": "sim-local", "model": "LOCAL-SIM",
               "messages": [{"role": "system", "content": "You are a helpful assistant."},
                            {"role": "user", "content": "Explain the concept of quantum entanglement in simple terms."}],
               "temperature": 0.7, "max_tokens": 200},
              {"request_id": "req-3", "provider": "sim-http", "model": "baton-sim-1@503",
               "messages": [{"role": "user", "content": "This one fails."}]}
            ]}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal(3, root.GetProperty("total_requests").GetInt32());
        Assert.Equal(2, root.GetProperty("successful").GetInt32());
        Assert.Equal(1, root.GetProperty("failed").GetInt32());
        Assert.True(root.GetProperty("total_latency_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("average_latency_ms").GetDouble() > 0);

        var answers = root.GetProperty("responses").EnumerateArray().ToList();
        Assert.Equal(["req-1", "req-2", "req-3"], answers.Select(a => a.GetProperty("request_id").GetString()));
        var first = answers[0];
        Assert.Equal("sim-http", first.GetProperty("provider").GetString());
        Assert.Equal("google/gemma-3-27b-it:free", first.GetProperty("model").GetString());
        Assert.Contains("cat", first.GetProperty("content").GetString());
        Assert.Equal(first.GetProperty("prompt_tokens").GetInt32() + first.GetProperty("completion_tokens").GetInt32(), first.GetProperty("total_tokens").GetInt32());
        Assert.True(first.GetProperty("latency_ms").GetDouble() > 0);
        Assert.True(first.GetProperty("timestamp").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("error").ValueKind);
        Assert.Equal("baton-sim-1", answers[1].GetProperty("model").GetString());
        Assert.Contains("503", answers[2].GetProperty("error").GetString());
        Assert.Equal("", answers[2].GetProperty("content").GetString());
        Assert.DoesNotContain(GatewayServer.Key, root.GetRawText());
    }

    [Fact]
    public async Task An_invalid_batch_is_a_422_listing_every_field_by_path()
    {
        var valid = """{"provider":"sim-local","model":"local-sim","messages":[{"role":"user","content":"ok"}]}""";
        using var response = await PostAsync($$"""
            {"requests": [{{valid}}, {{valid}}, {{valid}},
              {"provider":"sim-local","model":"local-sim","messages":[{"role":"user","content":"  "}],"temperature":3}]}
            """);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("validation_failed", error.GetProperty("code").GetString());
        Assert.Equal("requests[3].messages[0].content", error.GetProperty("param").GetString());
        Assert.Equal(["requests[3].messages[0].content", "requests[3].temperature"],
            error.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("param").GetString()));
    }

    [Theory]
    [InlineData("{\"requests\": [", HttpStatusCode.BadRequest)]
    [InlineData("{\"items\": []}", HttpStatusCode.UnprocessableEntity)]
    [InlineData("[1,2]", HttpStatusCode.UnprocessableEntity)]
    public async Task Malformed_bodies_are_client_errors(string body, HttpStatusCode status)
    {
        using var response = await PostAsync(body);
        Assert.Equal(status, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.TryGetProperty("error", out _));
    }
}
