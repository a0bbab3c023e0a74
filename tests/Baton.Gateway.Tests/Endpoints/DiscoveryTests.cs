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
}
