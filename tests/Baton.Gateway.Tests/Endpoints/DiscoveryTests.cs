using System.Net;
using System.Text.Json;
using Baton.Gateway.Tests.TestSupport;

namespace Baton.Gateway.Tests.Endpoints;

public sealed class DiscoveryTests(GatewayServer gateway) : IClassFixture<GatewayServer>
{
    [Fact]
    public async Task Health_answers_ok()
    {
        Assert.Equal("""{"status":"ok"}""", await gateway.Http.GetStringAsync("/health"));
    }

    [Fact]
    public async Task Models_are_listed_in_openai_shape()
    {
        using var json = JsonDocument.Parse(await gateway.Http.GetStringAsync("/v1/models"));
        Assert.Equal("list", json.RootElement.GetProperty("object").GetString());
        var ids = json.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains("gpt-sim", ids);
        Assert.Contains("failover-sim", ids);
        Assert.All(json.RootElement.GetProperty("data").EnumerateArray(), m => Assert.Equal("model", m.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task Models_are_listed_through_the_openai_sdk()
    {
        var client = new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential("k"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") });
        var models = (await client.GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Contains(models, m => m.Id == "local-sim");
    }

    [Fact]
    public async Task OpenApi_document_describes_the_chat_endpoint()
    {
        using var json = JsonDocument.Parse(await gateway.Http.GetStringAsync("/openapi/v1.json"));
        var paths = json.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/chat/completions", out var chat));
        Assert.True(chat.TryGetProperty("post", out _));
        Assert.True(paths.TryGetProperty("/v1/models", out _));
    }

    [Fact]
    public async Task Interactive_api_reference_is_served()
    {
        using var response = await gateway.Http.GetAsync("/scalar/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("text/html", response.Content.Headers.ContentType?.ToString());
    }

    [Theory]
    [InlineData("/docs")]
    [InlineData("/health")]
    [InlineData("/health/providers")]
    [InlineData("/v1/models")]
    public async Task Head_works_where_get_does_and_sends_no_body(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, path);
        using var response = await gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Docs_serve_the_api_reference()
    {
        using var response = await gateway.Http.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("text/html", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_operations_are_tagged_by_feature_and_listed_once()
    {
        using var json = JsonDocument.Parse(await gateway.Http.GetStringAsync("/openapi/v1.json"));
        var operations = json.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Path: path.Name, Method: operation.Name, operation.Value)))
            .ToList();

        Assert.DoesNotContain(operations, o => o.Method == "head");
        var tags = operations.ToDictionary(o => $"{o.Method} {o.Path}", o => o.Value.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList());
        Assert.Equal(["Chat"], tags["post /v1/chat/completions"]);
        Assert.Equal(["Messages"], tags["post /v1/messages"]);
        Assert.Equal(["Messages"], tags["post /v1/messages/count_tokens"]);
        Assert.Equal(["Embeddings"], tags["post /v1/embeddings"]);
        Assert.Equal(["Batches"], tags["post /v1/batches"]);
        Assert.Equal(["Batches"], tags["post /batch"]);
        Assert.Equal(["Files"], tags["post /v1/files"]);
        Assert.Equal(["Costs"], tags["get /v1/costs"]);
        Assert.Equal(["Health"], tags["get /health/providers"]);
        Assert.All(tags.Values.SelectMany(t => t), tag => Assert.DoesNotContain("Endpoint", tag, StringComparison.Ordinal));
    }
}
