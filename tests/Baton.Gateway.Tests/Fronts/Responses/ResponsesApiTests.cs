using System.ClientModel;
using System.Net;
using System.Text.Json;
using Baton.Gateway.Tests.Auth;
using OpenAI.Responses;

namespace Baton.Gateway.Tests.Fronts.Responses;

/// <summary>
/// The official OpenAI .NET SDK's responses client against <c>/v1/responses</c> over real HTTP, in front of the HTTP
/// simulator: plain and streamed answers, a function-call round trip, continuations, GET and DELETE, ownership across
/// keys, structured output, and the costs the ledger records.
/// </summary>
public sealed class ResponsesApiTests
{
    private static ResponsesClient Sdk(AuthGateway gateway, string key) =>
        new(new ApiKeyCredential(key), new ResponsesClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") });

    private static CreateResponseOptions Ask(string model, string text, string? previous = null, bool stream = false) => new()
    {
        Model = model,
        StreamingEnabled = stream ? true : null,
        InputItems = { ResponseItem.CreateUserMessageItem(text) },
        PreviousResponseId = previous,
    };

    [Fact]
    public async Task A_plain_response_comes_back_in_the_responses_shape_with_usage_and_is_stored()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (keyId, secret) = await gateway.CreateKeyAsync("""{"name":"alice"}""");
        var client = Sdk(gateway, secret);

        var options = Ask("gpt-sim", "Name three rivers.");
        options.Instructions = "Answer briefly.";
        options.MaxOutputTokenCount = 200;
        options.Metadata["task"] = "general";
        ResponseResult response = await client.CreateResponseAsync(options);

        Assert.StartsWith("resp_", response.Id);
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal("baton-sim-1", response.Model);
        Assert.False(string.IsNullOrWhiteSpace(response.GetOutputText()));
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(response.OutputItems));
        Assert.Equal(MessageRole.Assistant, message.Role);
        Assert.StartsWith("msg_", message.Id);
        Assert.True(response.Usage.InputTokenCount > 0);
        Assert.True(response.Usage.OutputTokenCount > 0);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        Assert.Equal(200, response.MaxOutputTokenCount);
        Assert.Equal("general", response.Metadata["task"]);

        ResponseResult stored = await client.GetResponseAsync(response.Id);
        Assert.Equal(response.Id, stored.Id);
        Assert.Equal(response.GetOutputText(), stored.GetOutputText());
        Assert.Equal(response.Usage.TotalTokenCount, stored.Usage.TotalTokenCount);

        // The request went through the one engine: one ledger row, billed to the caller's key.
        var rows = await gateway.LedgerRowsAsync();
        var row = Assert.Single(rows);
        Assert.Equal(keyId, row.ApiKey);
        Assert.True(row.Cost > 0);
    }

    [Fact]
    public async Task The_gateway_headers_and_the_cost_come_with_a_response()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);
        using var response = await http.PostAsync("/v1/responses", AuthGateway.Json("""{"model":"gpt-sim","input":"hello"}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("gpt-sim", response.Headers.GetValues("x-baton-model").Single());
        var cost = decimal.Parse(response.Headers.GetValues("x-baton-cost-usd").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var usage = JsonDocument.Parse(body).RootElement.GetProperty("usage");
        // $1 per million input tokens, $2 per million output tokens.
        Assert.Equal((usage.GetProperty("input_tokens").GetInt32() * 1m + usage.GetProperty("output_tokens").GetInt32() * 2m) / 1_000_000m, cost);
    }

    [Fact]
    public async Task A_streamed_response_sends_the_responses_event_sequence_and_is_stored_complete()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var client = Sdk(gateway, AuthGateway.MasterKey);

        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in await client.CreateResponseStreamingAsync(Ask("gpt-sim", "Tell me a story about a lighthouse.", stream: true)))
        {
            updates.Add(update);
        }

        var created = Assert.IsType<StreamingResponseCreatedUpdate>(updates[0]);
        Assert.Equal(ResponseStatus.InProgress, created.Response.Status);
        Assert.Equal("baton-sim-1", created.Response.Model);
        Assert.IsType<StreamingResponseInProgressUpdate>(updates[1]);
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal(Enumerable.Range(0, updates.Count), updates.Select(u => u.SequenceNumber));
        var deltas = updates.OfType<StreamingResponseOutputTextDeltaUpdate>().ToList();
        Assert.True(deltas.Count > 1);
        var text = string.Concat(deltas.Select(d => d.Delta));
        Assert.Equal(text, completed.Response.GetOutputText());
        Assert.Equal(text, updates.OfType<StreamingResponseOutputTextDoneUpdate>().Single().Text);
        Assert.Single(updates.OfType<StreamingResponseOutputItemAddedUpdate>());
        Assert.Single(updates.OfType<StreamingResponseContentPartAddedUpdate>());
        Assert.Single(updates.OfType<StreamingResponseContentPartDoneUpdate>());
        Assert.Single(updates.OfType<StreamingResponseOutputItemDoneUpdate>());
        Assert.Equal(ResponseStatus.Completed, completed.Response.Status);
        Assert.Equal(created.Response.Id, completed.Response.Id);
        Assert.True(completed.Response.Usage.OutputTokenCount > 0);
        Assert.Equal(completed.Response.Usage.InputTokenCount + completed.Response.Usage.OutputTokenCount, completed.Response.Usage.TotalTokenCount);

        ResponseResult stored = await client.GetResponseAsync(completed.Response.Id);
        Assert.Equal(text, stored.GetOutputText());
        Assert.Single(await gateway.LedgerRowsAsync());
    }

    [Fact]
    public async Task A_function_call_round_trip_continues_from_the_call_with_its_output()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var client = Sdk(gateway, AuthGateway.MasterKey);
        var tool = ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""
            {"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}
            """), strictModeEnabled: true, functionDescription: "The weather in a city");

        var first = Ask("gpt-sim", "What is the weather in Paris?");
        first.Tools.Add(tool);
        first.ToolChoice = ResponseToolChoice.CreateRequiredChoice();
        ResponseResult call = await client.CreateResponseAsync(first);

        var functionCall = Assert.IsType<FunctionCallResponseItem>(Assert.Single(call.OutputItems));
        Assert.Equal("get_weather", functionCall.FunctionName);
        Assert.StartsWith("fc_", functionCall.Id);
        Assert.False(string.IsNullOrEmpty(functionCall.CallId));
        Assert.True(JsonDocument.Parse(functionCall.FunctionArguments.ToString()).RootElement.TryGetProperty("city", out _));

        var second = new CreateResponseOptions
        {
            Model = "gpt-sim",
            PreviousResponseId = call.Id,
            InputItems = { ResponseItem.CreateFunctionCallOutputItem(functionCall.CallId, "sunny, 24 degrees") },
        };
        second.Tools.Add(tool);
        ResponseResult answer = await client.CreateResponseAsync(second);

        // The simulator quotes the tool result it was given: the call and its output reached the model together.
        Assert.Contains("sunny, 24 degrees", answer.GetOutputText());
        Assert.Equal(call.Id, answer.PreviousResponseId);
    }

    [Fact]
    public async Task A_streamed_function_call_sends_its_arguments_as_deltas()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var client = Sdk(gateway, AuthGateway.MasterKey);
        var options = Ask("gpt-sim", "Look up the order.", stream: true);
        options.Tools.Add(ResponseTool.CreateFunctionTool("find_order", BinaryData.FromString("""
            {"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}
            """), strictModeEnabled: false));
        options.ToolChoice = ResponseToolChoice.CreateFunctionChoice("find_order");

        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
        {
            updates.Add(update);
        }

        var added = Assert.Single(updates.OfType<StreamingResponseOutputItemAddedUpdate>());
        Assert.IsType<FunctionCallResponseItem>(added.Item);
        var arguments = string.Concat(updates.OfType<StreamingResponseFunctionCallArgumentsDeltaUpdate>().Select(d => d.Delta.ToString()));
        var done = Assert.Single(updates.OfType<StreamingResponseFunctionCallArgumentsDoneUpdate>());
        Assert.Equal(arguments, done.FunctionArguments.ToString());
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(completed.Response.OutputItems));
        Assert.Equal("find_order", call.FunctionName);
        Assert.Equal(arguments, call.FunctionArguments.ToString());
    }

    [Fact]
    public async Task Previous_response_id_puts_the_whole_conversation_first()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var client = Sdk(gateway, AuthGateway.MasterKey);

        ResponseResult first = await client.CreateResponseAsync(Ask("gpt-sim", "My name is Ada."));
        ResponseResult second = await client.CreateResponseAsync(Ask("gpt-sim", "I live in Lisbon.", first.Id));
        ResponseResult third = await client.CreateResponseAsync(Ask("gpt-sim", "What do you know about me?", second.Id));

        // Each continuation is given everything before it: its prompt grows by the previous turns.
        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount + first.Usage.OutputTokenCount - 1);
        Assert.True(third.Usage.InputTokenCount > second.Usage.InputTokenCount + second.Usage.OutputTokenCount - 1);

        var items = new List<ResponseItem>();
        await foreach (var item in client.GetResponseInputItemsAsync(new ResponseItemCollectionOptions(third.Id) { Order = ResponseItemCollectionOrder.Ascending }))
        {
            items.Add(item);
        }
        var texts = items.Cast<MessageResponseItem>().Select(m => (m.Role, m.Content[0].Text)).ToList();
        Assert.Equal(
            [
                (MessageRole.User, "My name is Ada."),
                (MessageRole.Assistant, first.GetOutputText()),
                (MessageRole.User, "I live in Lisbon."),
                (MessageRole.Assistant, second.GetOutputText()),
                (MessageRole.User, "What do you know about me?"),
            ],
            texts);
    }

    [Fact]
    public async Task A_deleted_response_is_gone_for_reads_and_continuations()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var client = Sdk(gateway, AuthGateway.MasterKey);
        ResponseResult response = await client.CreateResponseAsync(Ask("gpt-sim", "hello"));

        ResponseDeletionResult deleted = await client.DeleteResponseAsync(response.Id);
        Assert.True(deleted.Deleted);
        Assert.Equal(response.Id, deleted.ResponseId);

        var get = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(response.Id));
        Assert.Equal(404, get.Status);
        var again = await Assert.ThrowsAsync<ClientResultException>(() => client.DeleteResponseAsync(response.Id));
        Assert.Equal(404, again.Status);
        using var http = gateway.Client(AuthGateway.MasterKey);
        using var continued = await http.PostAsync("/v1/responses", AuthGateway.Json($$"""{"model":"gpt-sim","input":"more","previous_response_id":"{{response.Id}}"}"""));
        Assert.Equal(HttpStatusCode.NotFound, continued.StatusCode);
        var error = (await AuthGateway.ReadJsonAsync(continued)).GetProperty("error");
        Assert.Equal("previous_response_not_found", error.GetProperty("code").GetString());
        Assert.Equal("previous_response_id", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_response_not_stored_cannot_be_read_or_continued()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);
        using var created = await http.PostAsync("/v1/responses", AuthGateway.Json("""{"model":"gpt-sim","input":"hello","store":false}"""));
        var response = await AuthGateway.ReadJsonAsync(created);
        Assert.False(response.GetProperty("store").GetBoolean());
        var id = response.GetProperty("id").GetString();
        using var get = await http.GetAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task A_key_sees_only_its_own_responses_and_the_master_key_sees_all()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (_, aliceSecret) = await gateway.CreateKeyAsync("""{"name":"alice"}""");
        var (_, bobSecret) = await gateway.CreateKeyAsync("""{"name":"bob"}""");
        var alice = Sdk(gateway, aliceSecret);
        ResponseResult response = await alice.CreateResponseAsync(Ask("gpt-sim", "a secret of alice"));

        using var bob = gateway.Client(bobSecret);
        foreach (var path in new[] { $"/v1/responses/{response.Id}", $"/v1/responses/{response.Id}/input_items" })
        {
            using var hidden = await bob.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            Assert.Equal("not_found", await AuthGateway.ErrorCodeAsync(hidden));
        }
        using (var delete = await bob.DeleteAsync($"/v1/responses/{response.Id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }
        using (var continued = await bob.PostAsync("/v1/responses", AuthGateway.Json($$"""{"model":"gpt-sim","input":"tell me","previous_response_id":"{{response.Id}}"}""")))
        {
            Assert.Equal(HttpStatusCode.NotFound, continued.StatusCode);
        }

        ResponseResult own = await alice.GetResponseAsync(response.Id);
        Assert.Equal(response.Id, own.Id);
        ResponseResult seenByMaster = await Sdk(gateway, AuthGateway.MasterKey).GetResponseAsync(response.Id);
        Assert.Equal(response.Id, seenByMaster.Id);
        ResponseResult continuedByAlice = await alice.CreateResponseAsync(Ask("gpt-sim", "and then?", response.Id));
        Assert.Equal(ResponseStatus.Completed, continuedByAlice.Status);
    }

    [Fact]
    public async Task Text_format_json_schema_gets_structured_output()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var client = Sdk(gateway, AuthGateway.MasterKey);
        var options = Ask("gpt-sim", "Describe a city.");
        options.TextOptions = new ResponseTextOptions
        {
            TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("city", BinaryData.FromString("""
                {"type":"object","properties":{"name":{"type":"string"},"population":{"type":"integer"}},"required":["name","population"],"additionalProperties":false}
                """), jsonSchemaIsStrict: true),
        };

        ResponseResult response = await client.CreateResponseAsync(options);

        var city = JsonDocument.Parse(response.GetOutputText()).RootElement;
        Assert.Equal(JsonValueKind.String, city.GetProperty("name").ValueKind);
        Assert.Equal(JsonValueKind.Number, city.GetProperty("population").ValueKind);
        Assert.Equal(ResponseTextFormatKind.JsonSchema, response.TextOptions.TextFormat.Kind);
    }

    [Fact]
    public async Task Errors_come_in_openai_error_shape()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);
        foreach (var (body, status, param, code) in new (string, HttpStatusCode, string?, string)[]
        {
            ("""{"input":"hi"}""", HttpStatusCode.BadRequest, "model", "missing_required_parameter"),
            ("""{"model":"gpt-sim"}""", HttpStatusCode.BadRequest, "input", "missing_required_parameter"),
            ("""{"model":"gpt-sim","input":42}""", HttpStatusCode.BadRequest, "input", "invalid_type"),
            ("""{"model":"gpt-sim","input":[{"role":"robot","content":"hi"}]}""", HttpStatusCode.BadRequest, "input[0].role", "invalid_value"),
            ("""{"model":"gpt-sim","input":[{"type":"message","role":"user","content":[{"type":"input_audio"}]}]}""", HttpStatusCode.BadRequest, "input[0].content[0].type", "invalid_value"),
            ("""{"model":"gpt-sim","input":[{"type":"function_call_output","output":"x"}]}""", HttpStatusCode.BadRequest, "input[0].call_id", "missing_required_parameter"),
            ("""{"model":"gpt-sim","input":"hi","tools":[{"type":"web_search"}]}""", HttpStatusCode.BadRequest, "tools[0].type", "unsupported_tool"),
            ("""{"model":"gpt-sim","input":"hi","temperature":3}""", HttpStatusCode.BadRequest, "temperature", "invalid_value"),
            ("""{"model":"gpt-sim","input":"hi","max_output_tokens":0}""", HttpStatusCode.BadRequest, "max_output_tokens", "invalid_value"),
            ("""{"model":"gpt-sim","input":"hi","text":{"format":{"type":"json_schema","name":"x"}}}""", HttpStatusCode.BadRequest, "text.format.schema", "missing_required_parameter"),
            ("""{"model":"gpt-sim","input":"hi","metadata":{"a":1}}""", HttpStatusCode.BadRequest, "metadata.a", "invalid_type"),
            ("""{"model":"gpt-sim","input":"hi","previous_response_id":"resp_unknown"}""", HttpStatusCode.NotFound, "previous_response_id", "previous_response_not_found"),
            ("""{"model":"gpt-sim","input":"hi","background":true}""", HttpStatusCode.BadRequest, "background", "unsupported_parameter"),
            ("""{"model":"no-such-model","input":"hi"}""", HttpStatusCode.NotFound, "model", "model_not_found"),
            ("""{"model":"gpt-sim","input":"hi",""", HttpStatusCode.BadRequest, null, "invalid_json"),
            ("""{"model":"gpt-sim","input":"\ud800"}""", HttpStatusCode.BadRequest, null, "invalid_json"),
        })
        {
            using var response = await http.PostAsync("/v1/responses", AuthGateway.Json(body));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{body}: {(int)response.StatusCode} {text}");
            var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
            Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
            Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
            Assert.True(param == error.GetProperty("param").GetString(), $"{body}: {text}");
            Assert.True(code == error.GetProperty("code").GetString(), $"{body}: {text}");
        }

        using var unknown = await http.GetAsync("/v1/responses/resp_unknown");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not_found", await AuthGateway.ErrorCodeAsync(unknown));
        using var noKey = await gateway.Anonymous.PostAsync("/v1/responses", AuthGateway.Json("""{"model":"gpt-sim","input":"hi"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
    }

    [Fact]
    public async Task The_responses_operations_are_in_the_api_description_under_their_own_tag()
    {
        await using var gateway = await AuthGateway.StartAsync();
        using var http = gateway.Client(AuthGateway.MasterKey);
        var paths = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths");
        foreach (var (path, method) in new[] { ("/v1/responses", "post"), ("/v1/responses/{responseId}", "get"), ("/v1/responses/{responseId}", "delete"),
            ("/v1/responses/{responseId}/input_items", "get") })
        {
            var tags = paths.GetProperty(path).GetProperty(method).GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToList();
            Assert.Equal(["Responses"], tags);
        }
    }
}
