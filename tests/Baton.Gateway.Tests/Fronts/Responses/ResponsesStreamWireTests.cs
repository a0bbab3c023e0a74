using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Gateway.Tests.Auth;

namespace Baton.Gateway.Tests.Fronts.Responses;

/// <summary>
/// The Responses API on the wire: answers and events checked field by field against the shapes of OpenAI's published
/// reference (Fixtures/), and streams cut by the upstream, resumed or not.
/// </summary>
public sealed class ResponsesStreamWireTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fronts", "Responses", "Fixtures", name));

    [Fact]
    public async Task A_response_has_the_fields_of_the_reference_example()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);
        using var response = await http.PostAsync("/v1/responses", AuthGateway.Json("""{"model":"gpt-sim","input":"Tell me a bedtime story.","temperature":1,"top_p":1}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);

        AssertSameShape(JsonNode.Parse(Fixture("response.json")), JsonNode.Parse(text), "$");
    }

    [Fact]
    public async Task A_function_call_response_has_the_fields_of_the_reference_example()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);
        using var response = await http.PostAsync("/v1/responses", AuthGateway.Json("""
            {"model":"gpt-sim","input":"What is the weather like in Boston today?","tool_choice":"required","temperature":1,"top_p":1,
             "tools":[{"type":"function","name":"get_current_weather","description":"Get the current weather in a given location","strict":true,
               "parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location","unit"]}}]}
            """));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);

        AssertSameShape(JsonNode.Parse(Fixture("response-function-call.json")), JsonNode.Parse(text), "$");
    }

    [Fact]
    public async Task Streamed_events_have_the_fields_of_the_reference_examples_in_its_order()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);
        var references = Fixture("stream-events.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!).ToList();

        var textEvents = await StreamAsync(http, """{"model":"gpt-sim","input":"Hello!","instructions":"Be helpful.","stream":true,"temperature":1,"top_p":1}""");
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta",
             "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            textEvents.Select(e => e.Type).Distinct());
        var callEvents = await StreamAsync(http, """
            {"model":"gpt-sim","input":"Weather in Paris?","stream":true,"tool_choice":"required",
             "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}]}
            """);
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.function_call_arguments.delta",
             "response.function_call_arguments.done", "response.output_item.done", "response.completed"],
            callEvents.Select(e => e.Type).Distinct());

        static bool IsCallStream(JsonNode data) => (string?)data["response"]?["output"]?[0]?["type"] == "function_call";
        foreach (var events in new[] { textEvents, callEvents })
        {
            Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data["sequence_number"]!.GetValue<int>()));
            foreach (var (type, data) in events)
            {
                Assert.Equal(type, (string?)data["type"]);
                var isCall = data["item"]?["type"]?.GetValue<string>() == "function_call";
                var reference = references.FirstOrDefault(r => (string?)r["type"] == type
                    && (r["item"] is null || (r["item"]!["type"]!.GetValue<string>() == "function_call") == isCall));
                Assert.NotNull(reference);
                if (type == "response.completed" && IsCallStream(data))
                {
                    // The reference streams text only; a completed function call has the reference's function call response.
                    reference = reference.DeepClone();
                    reference["response"] = JsonNode.Parse(Fixture("response-function-call.json"));
                }
                AssertSameShape(reference, data, type);
            }
        }
    }

    [Fact]
    public async Task A_stream_cut_for_good_ends_with_response_failed_and_an_error_event_never_completed()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);

        var events = await StreamAsync(http, """{"model":"cut-sim","input":"Tell me a long story.","stream":true}""");

        Assert.DoesNotContain(events, e => e.Type == "response.completed");
        Assert.Equal("response.failed", events[^2].Type);
        var failed = events[^2].Data["response"]!;
        Assert.Equal("failed", (string?)failed["status"]);
        Assert.Equal("stream_interrupted", (string?)failed["error"]!["code"]);
        Assert.Equal("error", events[^1].Type);
        Assert.Equal("stream_interrupted", (string?)events[^1].Data["code"]);
        // What was sent before the cut is in the failed response, marked incomplete.
        var message = Assert.Single(failed["output"]!.AsArray())!;
        Assert.Equal("incomplete", (string?)message["status"]);
        Assert.Equal(
            string.Concat(events.Where(e => e.Type == "response.output_text.delta").Select(e => (string?)e.Data["delta"])),
            (string?)message["content"]![0]!["text"]);
    }

    [Fact]
    public async Task A_stream_cut_and_resumed_on_another_deployment_completes()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);

        var events = await StreamAsync(http, """{"model":"resume-sim","input":"Tell me a long story.","stream":true}""");

        Assert.Equal("response.completed", events[^1].Type);
        Assert.DoesNotContain(events, e => e.Type is "response.failed" or "error");
        var completed = events[^1].Data["response"]!;
        var text = string.Concat(events.Where(e => e.Type == "response.output_text.delta").Select(e => (string?)e.Data["delta"]));
        Assert.Equal(text, (string?)completed["output"]![0]!["content"]![0]!["text"]);
        Assert.True(completed["usage"]!["output_tokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task An_answer_cut_by_max_output_tokens_is_incomplete()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);
        using var response = await http.PostAsync("/v1/responses", AuthGateway.Json("""{"model":"gpt-sim","input":"Tell me a long story.","max_output_tokens":3}"""));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("incomplete", (string?)body["status"]);
        Assert.Equal("max_output_tokens", (string?)body["incomplete_details"]!["reason"]);
        Assert.Equal(3, body["max_output_tokens"]!.GetValue<int>());

        var events = await StreamAsync(http, """{"model":"gpt-sim","input":"Tell me a long story.","max_output_tokens":3,"stream":true}""");
        Assert.Equal("response.incomplete", events[^1].Type);
        Assert.Equal("max_output_tokens", (string?)events[^1].Data["response"]!["incomplete_details"]!["reason"]);
    }

    /// <summary>The server-sent events of a streamed response: each <c>event:</c> line's type and its JSON.</summary>
    private static async Task<List<(string Type, JsonNode Data)>> StreamAsync(HttpClient http, string body)
    {
        using var response = await http.PostAsync("/v1/responses", AuthGateway.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string, JsonNode)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            if (lines.All(line => line.StartsWith(':')))
            {
                continue;
            }
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            events.Add((lines[0]["event: ".Length..], JsonNode.Parse(lines[1]["data: ".Length..])!));
        }
        return events;
    }

    /// <summary>
    /// Same fields, recursively, with values of the same JSON kind (a null on either side stands for any kind: the
    /// reference's nullable fields). Arrays are compared element by element up to the shorter one's length.
    /// </summary>
    private static void AssertSameShape(JsonNode? expected, JsonNode? actual, string path)
    {
        if (expected is null || actual is null)
        {
            return;
        }
        var expectedKind = expected.GetValueKind();
        var actualKind = actual.GetValueKind();
        if (expectedKind is JsonValueKind.True or JsonValueKind.False)
        {
            Assert.True(actualKind is JsonValueKind.True or JsonValueKind.False, $"{path}: expected a boolean, found {actualKind}");
            return;
        }
        Assert.True(expectedKind == actualKind, $"{path}: expected {expectedKind}, found {actualKind}");
        switch (expected)
        {
            case JsonObject expectedObject:
                var actualObject = actual.AsObject();
                Assert.True(
                    expectedObject.Select(p => p.Key).Order().SequenceEqual(actualObject.Select(p => p.Key).Order()),
                    $"{path}: fields [{string.Join(", ", expectedObject.Select(p => p.Key).Order())}] expected, found [{string.Join(", ", actualObject.Select(p => p.Key).Order())}]");
                foreach (var (name, value) in expectedObject)
                {
                    // A tool's parameters are the caller's own schema, not part of the API's shape.
                    if (name != "parameters")
                    {
                        AssertSameShape(value, actualObject[name], $"{path}.{name}");
                    }
                }
                break;
            case JsonArray expectedArray:
                var actualArray = actual.AsArray();
                for (var i = 0; i < Math.Min(expectedArray.Count, actualArray.Count); i++)
                {
                    AssertSameShape(expectedArray[i], actualArray[i], $"{path}[{i}]");
                }
                break;
        }
    }
}
