using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Baton.Core.Tests.TestSupport;
using Baton.Simulation.Wire;

namespace Baton.Core.Tests.Simulation;

/// <summary>The simulator's Messages API spoken to directly, as Anthropic's own clients would.</summary>
public sealed class AnthropicSimulatorTests(SimulatorServer simulator) : IClassFixture<SimulatorServer>
{
    private const string Question = """
        {"model":"baton-sim-1","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":"Hello, Claude"}]}
        """;

    private async Task<HttpResponseMessage> PostAsync(string body, bool withVersion = true, string? fault = null)
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Post, simulator.BaseUrl + "/v1/messages")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (withVersion)
        {
            request.Headers.Add("anthropic-version", "2023-06-01");
        }
        if (fault is not null)
        {
            request.Headers.Add("x-baton-sim-fault", fault);
        }
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task A_request_without_anthropic_version_is_refused_in_anthropics_shape()
    {
        using var response = await PostAsync(Question, withVersion: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("error", json["type"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", json["error"]!["type"]!.GetValue<string>());
        Assert.Contains("anthropic-version", json["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_answer_is_a_message_object()
    {
        using var response = await PostAsync(Question);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("message", json["type"]!.GetValue<string>());
        Assert.Equal("assistant", json["role"]!.GetValue<string>());
        Assert.Equal("end_turn", json["stop_reason"]!.GetValue<string>());
        Assert.Equal("text", json["content"]![0]!["type"]!.GetValue<string>());
        Assert.Contains("Hello, Claude", json["content"]![0]!["text"]!.GetValue<string>());
        Assert.True(json["usage"]!["input_tokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task A_stream_is_named_events_in_anthropics_order()
    {
        using var response = await PostAsync(Question.Replace("\"max_tokens\":256", "\"max_tokens\":256,\"stream\":true", StringComparison.Ordinal));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var names = text.Split('\n').Where(l => l.StartsWith("event: ", StringComparison.Ordinal)).Select(l => l[7..]).Distinct().ToList();
        Assert.Equal(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop", "message_delta", "message_stop"], names);
        // Every data line repeats its event's name as its type, as Anthropic's do.
        var lines = text.Split('\n');
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            if (lines[i].StartsWith("event: ", StringComparison.Ordinal))
            {
                Assert.Equal(lines[i][7..], JsonNode.Parse(lines[i + 1]["data: ".Length..])!["type"]!.GetValue<string>());
            }
        }
    }

    [Theory]
    [InlineData("429:3", 429, "rate_limit_error")]
    [InlineData("401", 401, "authentication_error")]
    [InlineData("500", 500, "api_error")]
    [InlineData("529", 529, "overloaded_error")]
    public async Task Faults_answer_with_anthropics_error_types(string fault, int status, string type)
    {
        using var response = await PostAsync(Question, fault: fault);
        Assert.Equal(status, (int)response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("error", json["type"]!.GetValue<string>());
        Assert.Equal(type, json["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void The_prompt_reader_sees_system_tools_choice_results_and_limits()
    {
        var prompt = AnthropicPromptReader.Read("""
            {"model":"claude-x","max_tokens":64,"stream":true,"system":[{"type":"text","text":"Be brief."}],
             "messages":[{"role":"user","content":"Weather?"},
               {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"}]}]}],
             "tools":[{"name":"get_weather","input_schema":{"type":"object"}},{"name":"get_time","input_schema":{"type":"object"}}],
             "tool_choice":{"type":"tool","name":"get_time"}}
            """u8);

        Assert.Equal("claude-x", prompt.Model);
        Assert.True(prompt.Stream);
        Assert.Equal(64, prompt.MaxTokens);
        Assert.Equal(new Baton.Simulation.SimulatedMessage("system", "Be brief."), prompt.Messages[0]);
        Assert.Contains("get_weather", prompt.Messages[2].Text);
        Assert.Contains("Paris", prompt.Messages[2].Text);
        Assert.True(prompt.Messages[3].IsToolResult);
        Assert.Equal("sunny", prompt.Messages[3].Text);
        Assert.Equal(["get_weather", "get_time"], prompt.Tools.Select(t => t.Name));
        Assert.Equal("get_time", prompt.ForcedTool);

        Assert.False(AnthropicPromptReader.Read("""{"model":"m","messages":[],"tool_choice":{"type":"none"}}"""u8).ToolsAllowed);
    }
}
