using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Baton.Accounting;
using Baton.Simulation;
using OpenAI;
using OpenAI.Embeddings;

namespace Baton.Gateway.Tests.Embeddings;

/// <summary><c>POST /v1/embeddings</c> over real HTTP: the OpenAI SDK, every provider's wire format, cache, ledger and bad input.</summary>
public sealed class EmbeddingsEndpointTests(EmbeddingsGatewayServer server) : IClassFixture<EmbeddingsGatewayServer>
{
    private EmbeddingClient Client(string model) => new OpenAIClient(
        new ApiKeyCredential("any-client-key"),
        new OpenAIClientOptions { Endpoint = new Uri(server.BaseUrl + "/v1") }).GetEmbeddingClient(model);

    private static int Tokens(params string[] texts) => texts.Sum(t => PromptTokenCounter.Count(t, "text-embedding-3-small"));

    private async Task<(HttpResponseMessage Response, JsonElement Json)> PostAsync(string body, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        configure?.Invoke(request);
        var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static float[] Floats(JsonElement item) => [.. item.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle())];

    [Fact]
    public async Task The_sdk_gets_base64_vectors_for_several_inputs_with_dimensions()
    {
        string[] texts = ["The quick brown fox", "jumps over the lazy dog", "The quick brown fox"];
        var result = await Client("openai").GenerateEmbeddingsAsync(texts, new EmbeddingGenerationOptions { Dimensions = 64, EndUserId = "user-7" });

        var collection = result.Value;
        Assert.Equal(3, collection.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(i, collection[i].Index);
            Assert.Equal(SimulatedEmbedding.Vector(texts[i], 64), collection[i].ToFloats().ToArray());
        }
        // The same text gives the same unit vector; different texts, different ones.
        Assert.Equal(collection[0].ToFloats().ToArray(), collection[2].ToFloats().ToArray());
        Assert.NotEqual(collection[0].ToFloats().ToArray(), collection[1].ToFloats().ToArray());
        Assert.Equal(1, Math.Sqrt(collection[1].ToFloats().ToArray().Sum(v => (double)v * v)), 5);
        Assert.Equal("text-embedding-3-small", collection.Model);
        Assert.Equal(Tokens(texts), collection.Usage.InputTokenCount);
        Assert.Equal(collection.Usage.InputTokenCount, collection.Usage.TotalTokenCount);
        var headers = result.GetRawResponse().Headers;
        Assert.True(headers.TryGetValue("x-baton-deployment", out var deployment));
        Assert.Equal("p-openai/text-embedding-3-small", deployment);
    }

    [Fact]
    public async Task The_sdk_sends_token_arrays()
    {
        var tokens = PromptTokenCounter.For("text-embedding-3-small").EncodeToIds("hello tokens");
        var result = await Client("openai").GenerateEmbeddingsAsync([new ReadOnlyMemory<int>([.. tokens])], new EmbeddingGenerationOptions { Dimensions = 16 });

        Assert.Equal(SimulatedEmbedding.Vector("hello tokens", 16), result.Value[0].ToFloats().ToArray());
        Assert.Equal(tokens.Count, result.Value.Usage.InputTokenCount);
    }

    [Fact]
    public async Task Float_vectors_come_back_in_openai_shape_through_the_sdk_protocol_method()
    {
        var body = BinaryContent.Create(BinaryData.FromString("""{"model":"openai","input":"A float vector","encoding_format":"float"}"""));
        var result = await Client("openai").GenerateEmbeddingsAsync(body, new RequestOptions());

        var json = JsonDocument.Parse(result.GetRawResponse().Content.ToString()).RootElement;
        Assert.Equal("list", json.GetProperty("object").GetString());
        var item = Assert.Single(json.GetProperty("data").EnumerateArray());
        Assert.Equal("embedding", item.GetProperty("object").GetString());
        Assert.Equal(0, item.GetProperty("index").GetInt32());
        Assert.Equal(SimulatedEmbedding.Vector("A float vector", 1536), Floats(item));
        Assert.Equal("text-embedding-3-small", json.GetProperty("model").GetString());
        Assert.Equal(Tokens("A float vector"), json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(Tokens("A float vector"), json.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Theory]
    [MemberData(nameof(EmbeddingsGatewayServer.Formats), MemberType = typeof(EmbeddingsGatewayServer))]
    public async Task Every_provider_format_embeds_one_and_several_inputs(string model)
    {
        foreach (var texts in new[] { new[] { $"one input for {model}" }, new[] { $"first for {model}", $"second for {model}", "third" } })
        {
            var input = JsonSerializer.Serialize(texts.Length == 1 ? (object)texts[0] : texts);
            var (response, json) = await PostAsync($$"""{"model":"{{model}}","input":{{input}},"dimensions":24}""");

            Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
            Assert.Equal("p-" + model, response.Headers.GetValues("x-baton-provider").Single());
            var data = json.GetProperty("data").EnumerateArray().ToList();
            Assert.Equal(texts.Length, data.Count);
            for (var i = 0; i < texts.Length; i++)
            {
                Assert.Equal(i, data[i].GetProperty("index").GetInt32());
                Assert.Equal(SimulatedEmbedding.Vector(texts[i], 24), Floats(data[i]));
            }
            // Reported by the upstream, or (Gemini reports none) counted by Baton with the same encoding.
            Assert.Equal(Tokens(texts), json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        }
    }

    [Fact]
    public async Task Token_arrays_reach_a_text_only_provider_as_their_text()
    {
        var ids = PromptTokenCounter.For("text-embedding-3-small").EncodeToIds("decoded for gemini");
        var (response, json) = await PostAsync($$"""{"model":"gemini","input":[{{JsonSerializer.Serialize(ids)}}],"dimensions":8}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SimulatedEmbedding.Vector("decoded for gemini", 8), Floats(json.GetProperty("data")[0]));
    }

    [Fact]
    public async Task A_second_identical_request_is_a_cache_hit_and_no_cache_skips_the_lookup()
    {
        var body = """{"model":"ollama","input":["cache me","and me"],"dimensions":12}""";
        var (first, firstJson) = await PostAsync(body);
        var (second, secondJson) = await PostAsync("""{ "dimensions": 12, "input": ["cache me","and me"], "model": "ollama", "user": "someone-else" }""");
        var (third, _) = await PostAsync(body, r => r.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true });
        var (otherEncoding, otherJson) = await PostAsync("""{"model":"ollama","input":["cache me","and me"],"dimensions":12,"encoding_format":"base64"}""");

        Assert.Equal("miss", first.Headers.GetValues("x-baton-cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("x-baton-cache").Single());
        Assert.Equal("0", second.Headers.GetValues("x-baton-cost-usd").Single());
        Assert.Equal(firstJson.ToString(), secondJson.ToString());
        Assert.Equal("miss", third.Headers.GetValues("x-baton-cache").Single());
        // The encoding is part of the key: base64 is its own entry, with the same vectors.
        Assert.Equal("miss", otherEncoding.Headers.GetValues("x-baton-cache").Single());
        var decoded = Convert.FromBase64String(otherJson.GetProperty("data")[1].GetProperty("embedding").GetString()!);
        Assert.Equal(Floats(firstJson.GetProperty("data")[1]), Enumerable.Range(0, decoded.Length / 4).Select(i => BitConverter.ToSingle(decoded, i * 4)));
    }

    [Fact]
    public async Task Usage_and_cost_are_recorded_in_the_ledger_at_the_catalog_price()
    {
        var session = "embeddings-ledger-" + Guid.NewGuid().ToString("N");
        var text = "What does an embedding cost? " + session;
        var (response, json) = await PostAsync($$"""{"model":"openai","input":"{{text}}","user":"ledger-user"}""", r => r.Headers.Add("X-Baton-Session", session));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tokens = json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        // text-embedding-3-small: $0.02 per million input tokens in the genai-prices catalog; no output tokens.
        var cost = decimal.Parse(response.Headers.GetValues("x-baton-cost-usd").Single(), CultureInfo.InvariantCulture);
        Assert.Equal(tokens * 0.02m / 1_000_000m, cost);

        using var costs = await server.Http.GetAsync($"/v1/costs?session_id={session}");
        Assert.Equal(HttpStatusCode.OK, costs.StatusCode);
        Assert.Equal(1, server.Scalar($"SELECT COUNT(*) FROM ledger WHERE session = '{session}'"));
        Assert.Equal(tokens, server.Scalar($"SELECT prompt_tokens FROM ledger WHERE session = '{session}'"));
        Assert.Equal(0, server.Scalar($"SELECT completion_tokens FROM ledger WHERE session = '{session}'"));
        Assert.Equal(1, server.Scalar($"SELECT priced FROM ledger WHERE session = '{session}' AND model = 'openai' AND user = 'ledger-user' AND deployment = 'p-openai/text-embedding-3-small'"));
        Assert.Equal((long)(cost * 1_000_000_000_000m), server.Scalar($"SELECT cost_picousd FROM ledger WHERE session = '{session}'"));
    }

    [Fact]
    public async Task A_failing_deployment_falls_back_to_another_embeddings_model()
    {
        var (response, json) = await PostAsync("""{"model":"broken","input":"rescue me","dimensions":4}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-baton-fallback").Single());
        Assert.Equal("local", response.Headers.GetValues("x-baton-model").Single());
        Assert.Equal(SimulatedEmbedding.Vector("rescue me", 4), Floats(json.GetProperty("data")[0]));
    }

    public static TheoryData<string, int, string?, string> BadInputs => new()
    {
        { """{"input":"no model"}""", 400, "model", "missing_required_parameter" },
        { """{"model":"openai"}""", 400, "input", "missing_required_parameter" },
        { """{"model":"openai","input":""}""", 400, "input", "invalid_value" },
        { """{"model":"openai","input":[]}""", 400, "input", "invalid_value" },
        { """{"model":"openai","input":["a",1]}""", 400, "input", "invalid_value" },
        { """{"model":"openai","input":[[1,2],[-3]]}""", 400, "input", "invalid_value" },
        { """{"model":"openai","input":{"text":"a"}}""", 400, "input", "invalid_type" },
        { """{"model":"openai","input":"a","encoding_format":"int8"}""", 400, "encoding_format", "invalid_value" },
        { """{"model":"openai","input":"a","dimensions":0}""", 400, "dimensions", "invalid_value" },
        { """{"model":"openai","input":"a","dimensions":"8"}""", 400, "dimensions", "invalid_type" },
        { """{"model":"openai","input":"a","user":5}""", 400, "user", "invalid_type" },
        { """{"model":"openai","input":"a",""", 400, null, "invalid_json" },
        { """["openai"]""", 400, null, "invalid_json" },
        { """{"model":"chat","input":"a"}""", 400, "model", "wrong_model_kind" },
        { """{"model":"no-such-model","input":"a"}""", 404, "model", "model_not_found" },
        { """{"model":"gemini","input":[[99999999]]}""", 400, "input", "invalid_value" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_a_4xx_in_openai_shape_naming_the_parameter(string body, int status, string? param, string code)
    {
        var (response, json) = await PostAsync(body);

        Assert.Equal(status, (int)response.StatusCode);
        var error = json.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_chat_request_for_an_embeddings_model_is_refused()
    {
        using var response = await server.Http.PostAsync("/v1/chat/completions",
            new StringContent("""{"model":"openai","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("wrong_model_kind", error.GetProperty("code").GetString());
        Assert.Contains("/v1/embeddings", error.GetProperty("message").GetString());
    }
}
