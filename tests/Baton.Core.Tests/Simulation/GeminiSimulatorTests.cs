using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Core.Tests.Providers.Gemini;
using Baton.Core.Tests.TestSupport;
using Baton.Providers.Gemini;
using Baton.Simulation.Wire;

namespace Baton.Core.Tests.Simulation;

/// <summary>The simulator's Gemini face, checked against the published request shape and Gemini's error bodies.</summary>
public sealed class GeminiSimulatorTests(SimulatorServer simulator) : IClassFixture<SimulatorServer>
{
    private async Task<HttpResponseMessage> PostAsync(string path, string body, string? fault = null)
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Post, simulator.BaseUrl + path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (fault is not null)
        {
            request.Headers.Add("x-baton-sim-fault", fault);
        }
        return await http.SendAsync(request);
    }

    [Fact]
    public void The_prompt_reader_understands_a_function_calling_history()
    {
        var prompt = GeminiPromptReader.Read(GeminiFixtures.Bytes("generate-request-function-response.json"), "gemini-3-flash-preview", stream: true);

        Assert.Equal("gemini-3-flash-preview", prompt.Model);
        Assert.True(prompt.Stream);
        Assert.Equal(1024, prompt.MaxTokens);
        Assert.Equal(["system", "user", "assistant", "tool"], prompt.Messages.Select(m => m.Role));
        Assert.Contains("called schedule_meeting", prompt.Messages[2].Text);
        Assert.True(prompt.Messages[^1].IsToolResult);
        Assert.Contains("mtg-4821", prompt.Messages[^1].Text);
        Assert.Equal("schedule_meeting", Assert.Single(prompt.Tools).Name);
    }

    [Fact]
    public void The_prompt_reader_takes_the_forced_function_and_mode_none()
    {
        var forced = GeminiPromptReader.Read("""{"contents":[],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}}"""u8, "m", false);
        var none = GeminiPromptReader.Read("""{"contents":[],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}"""u8, "m", false);

        Assert.Equal("f", forced.ForcedTool);
        Assert.False(none.ToolsAllowed);
    }

    [Fact]
    public async Task A_simulated_429_carries_its_delay_as_retry_info_like_gemini()
    {
        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""", "429:12");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        using var json = JsonDocument.Parse(body);
        Assert.Equal("RESOURCE_EXHAUSTED", json.RootElement.GetProperty("error").GetProperty("status").GetString());
        Assert.Equal(429, json.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(TimeSpan.FromSeconds(12), GeminiProvider.ReadRetryInfo(body));
    }

    [Theory]
    [InlineData("401", "UNAUTHENTICATED")]
    [InlineData("500", "INTERNAL")]
    [InlineData("503", "UNAVAILABLE")]
    public async Task Errors_use_google_status_names(string fault, string status)
    {
        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[]}""", fault);

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(status, json.RootElement.GetProperty("error").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_stream_has_usage_on_every_event_and_the_finish_reason_only_on_the_last()
    {
        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", """{"contents":[{"role":"user","parts":[{"text":"What is Baton?"}]}]}""");

        var events = (await response.Content.ReadAsStringAsync()).Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.True(events.Length > 2);
        var parsed = events.Select(e => JsonDocument.Parse(e["data: ".Length..])).ToList();
        Assert.All(parsed, e => Assert.True(e.RootElement.TryGetProperty("usageMetadata", out _)));
        Assert.All(parsed.SkipLast(1), e => Assert.False(e.RootElement.GetProperty("candidates")[0].TryGetProperty("finishReason", out _)));
        Assert.Equal("STOP", parsed[^1].RootElement.GetProperty("candidates")[0].GetProperty("finishReason").GetString());
        parsed.ForEach(e => e.Dispose());
    }

    [Fact]
    public async Task An_unknown_method_is_a_404()
    {
        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", "{}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
