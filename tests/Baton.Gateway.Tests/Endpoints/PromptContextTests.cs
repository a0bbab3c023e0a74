using System.ClientModel;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Baton.Gateway.Tests.TestSupport;
using OpenAI;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary><c>metadata.context</c> over HTTP: rendered into the prompt the upstream answers.</summary>
public sealed class PromptContextTests(GatewayServer gateway) : IClassFixture<GatewayServer>
{
    [Fact]
    public async Task A_context_object_reaches_the_upstream_as_part_of_the_prompt()
    {
        using var response = await gateway.Http.PostAsJsonAsync("/v1/chat/completions", JsonNode.Parse("""
            {"model":"gpt-sim","messages":[{"role":"user","content":"Fix it"}],"metadata":{"context":{"language":"C#"}}}
            """));

        response.EnsureSuccessStatusCode();
        var answer = (string?)(await response.Content.ReadFromJsonAsync<JsonNode>())!["choices"]![0]!["message"]!["content"];
        Assert.Contains("\"Context: - language: C#  Fix it\"", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openai_sdk_sends_it_as_a_metadata_string()
    {
        var client = new OpenAIClient(new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") }).GetChatClient("gpt-sim");
        var options = new ChatCompletionOptions();
        options.Metadata["context"] = """{"framework":"FastAPI"}""";

        var completion = (await client.CompleteChatAsync([new UserChatMessage("Add a route")], options)).Value;

        Assert.Contains("\"Context: - framework: FastAPI  Add a route\"", completion.Content[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_context_that_is_not_an_object_is_a_400_in_openai_shape()
    {
        using var response = await gateway.Http.PostAsJsonAsync("/v1/chat/completions", JsonNode.Parse("""
            {"model":"gpt-sim","messages":[{"role":"user","content":"x"}],"metadata":{"context":[1,2]}}
            """));

        Assert.Equal(400, (int)response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonNode>())!["error"]!;
        Assert.Equal("metadata.context", (string?)error["param"]);
    }
}
