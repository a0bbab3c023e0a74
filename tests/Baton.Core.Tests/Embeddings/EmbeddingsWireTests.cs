using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Core.Tests.Providers.Gemini;
using Baton.Embeddings;
using Baton.Errors;
using Baton.Providers.Gemini;
using Baton.Providers.Ollama;
using Baton.Providers.OpenAi;

namespace Baton.Core.Tests.Embeddings;

/// <summary>Embeddings requests and answers against the providers' published examples (see Fixtures/SOURCES.md).</summary>
public sealed class EmbeddingsWireTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Providers", "Fixtures", "embeddings", name));

    /// <summary>The fixture as plain JSON (Google's examples carry trailing commas).</summary>
    private static string Json(string name) =>
        JsonNode.Parse(Fixture(name), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true })!.ToJsonString();

    private static EmbeddingProviderRequest For(string body, string upstream) =>
        new(EmbeddingRequest.Parse(System.Text.Encoding.UTF8.GetBytes(body)), upstream);

    [Fact]
    public void The_openai_request_is_the_reference_example()
    {
        var request = For("""{"model":"embedder","input":"The food was delicious and the waiter..."}""", "text-embedding-ada-002");

        GeminiFixtures.AssertSameJson(Json("openai-request.json"), System.Text.Encoding.UTF8.GetString(OpenAiEmbeddings.WriteRequest(request)));
    }

    [Fact]
    public void The_openai_request_keeps_dimensions_user_and_fields_baton_does_not_read()
    {
        var request = For("""{"model":"embedder","input":[[1,2,3]],"dimensions":256,"user":"u-1","encoding_format":"base64","truncate_prompt_tokens":512}""", "bge-m3");

        GeminiFixtures.AssertSameJson(
            """{"model":"bge-m3","input":[[1,2,3]],"encoding_format":"float","dimensions":256,"user":"u-1","truncate_prompt_tokens":512}""",
            System.Text.Encoding.UTF8.GetString(OpenAiEmbeddings.WriteRequest(request)));
        // An Azure OpenAI deployment's path names the model.
        Assert.DoesNotContain("\"model\"", System.Text.Encoding.UTF8.GetString(OpenAiEmbeddings.WriteRequest(request, namesModel: false)));
    }

    [Theory]
    [InlineData("openai-response.json", 8, 0.0023064255f)]
    [InlineData("azure-response.json", 4, -0.012838088f)]
    public void Openai_and_azure_answers_are_read(string fixture, int tokens, float first)
    {
        var answer = OpenAiEmbeddings.ReadAnswer("p", System.Text.Encoding.UTF8.GetBytes(Fixture(fixture)), inputs: 1);

        Assert.Equal(tokens, answer.PromptTokens);
        Assert.Equal(3, answer.Vectors[0].Length);
        Assert.Equal(first, answer.Vectors[0][0]);
    }

    [Fact]
    public void A_base64_answer_is_little_endian_floats_and_items_are_put_in_index_order()
    {
        float[] second = [0.5f, -1.25f, 3e-8f];
        var base64 = Convert.ToBase64String(EmbeddingJson.ToBytes(second));
        var body = $$"""{"object":"list","data":[{"object":"embedding","index":1,"embedding":"{{base64}}"},{"object":"embedding","index":0,"embedding":[1,2,3]}],"model":"m"}""";

        var answer = OpenAiEmbeddings.ReadAnswer("p", System.Text.Encoding.UTF8.GetBytes(body), inputs: 2);

        Assert.Equal([1f, 2f, 3f], answer.Vectors[0]);
        Assert.Equal(second, answer.Vectors[1]);
        Assert.Null(answer.PromptTokens);
        Assert.Equal(BitConverter.GetBytes(0.5f), EmbeddingJson.ToBytes([0.5f]));
    }

    [Theory]
    [InlineData("""{"object":"list","data":[]}""")]
    [InlineData("""{"object":"list","data":[{"index":3,"embedding":[1]}]}""")]
    [InlineData("""{"error":{"message":"nope"}}""")]
    [InlineData("""{"data":[{"index":0,"embedding":"not base64!"}]}""")]
    [InlineData("""{"data":[{"index":0,"embedding":[1""")]
    public void An_answer_without_one_vector_per_input_is_an_upstream_failure(string body)
    {
        var error = Assert.Throws<BatonException>(() => OpenAiEmbeddings.ReadAnswer("p", System.Text.Encoding.UTF8.GetBytes(body), inputs: 1));

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("p", error.Provider);
    }

    [Fact]
    public void Gemini_requests_are_the_guide_examples()
    {
        var one = For("""{"model":"embedder","input":"What is the meaning of life?"}""", "gemini-embedding-001");
        GeminiFixtures.AssertSameJson(Json("gemini-embed-request.json"), System.Text.Encoding.UTF8.GetString(GeminiEmbeddings.WriteRequest(one, 0, 1, batch: false)));

        var three = For("""{"model":"embedder","input":["What is the meaning of life?","How much wood would a woodchuck chuck?","How does the brain work?"]}""", "gemini-embedding-001");
        GeminiFixtures.AssertSameJson(Json("gemini-batch-request.json"), System.Text.Encoding.UTF8.GetString(GeminiEmbeddings.WriteRequest(three, 0, 3, batch: true)));

        var shorter = For("""{"model":"embedder","input":"short","dimensions":768}""", "gemini-embedding-001");
        Assert.Equal(768, JsonNode.Parse(GeminiEmbeddings.WriteRequest(shorter, 0, 1, batch: false))!["outputDimensionality"]!.GetValue<int>());
    }

    [Fact]
    public void Gemini_answers_are_read()
    {
        var one = GeminiEmbeddings.ReadAnswer("g", System.Text.Encoding.UTF8.GetBytes(Fixture("gemini-embed-response.json")), 1, batch: false);
        var three = GeminiEmbeddings.ReadAnswer("g", System.Text.Encoding.UTF8.GetBytes(Fixture("gemini-batch-response.json")), 3, batch: true);

        Assert.Equal([-0.022374554f, -0.004560777f, 0.013309286f, -0.0545072f], one[0]);
        Assert.Equal(3, three.Length);
        Assert.Equal(0.0039310833f, three[1][0]);
        Assert.Throws<BatonException>(() => GeminiEmbeddings.ReadAnswer("g", System.Text.Encoding.UTF8.GetBytes(Fixture("gemini-batch-response.json")), 2, batch: true));
    }

    [Fact]
    public void The_ollama_request_and_answer_are_the_reference_examples()
    {
        var request = For("""{"model":"embedder","input":["Why is the sky blue?","Why is the grass green?"]}""", "all-minilm");
        GeminiFixtures.AssertSameJson(Json("ollama-request.json"), System.Text.Encoding.UTF8.GetString(OllamaEmbeddings.WriteRequest(request)));

        var answer = OllamaEmbeddings.ReadAnswer("o", System.Text.Encoding.UTF8.GetBytes(Fixture("ollama-response.json")), inputs: 1);
        Assert.Equal(8, answer.PromptTokens);
        Assert.Equal(10, answer.Vectors[0].Length);
        Assert.Equal(0.031952348f, answer.Vectors[0][9]);
    }

    [Fact]
    public void Longer_vectors_are_shortened_to_unit_length_and_shorter_ones_refused()
    {
        var fitted = EmbeddingVectors.Fit([[3f, 4f, 12f]], 2, "d");
        Assert.Equal([0.6f, 0.8f], fitted[0]);

        var error = Assert.Throws<BatonException>(() => EmbeddingVectors.Fit([[1f, 0f]], 3, "d"));
        Assert.Equal("dimensions", error.Param);
    }
}
