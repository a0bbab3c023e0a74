using System.Text;
using System.Text.Json;
using Baton.Accounting;
using Baton.Core.Tests.Requests;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Core.Tests.Providers;

/// <summary>
/// One pass over a non-streamed answer gives what the provider, the engine and a span each read from it before in
/// their own pass: the inspector's findings, the text (pinned to what the JSON-document reading gave) and the id,
/// model and finish reasons a span records.
/// </summary>
public sealed class CompletionFactsTests
{
    /// <summary>Name in <see cref="BodyCorpus.Answers"/>, text, id, model, finish reasons (comma-separated).</summary>
    public static TheoryData<string, string, string?, string?, string> Golden => new()
    {
        { "bench", "The quick brown fox jumps over the lazy dog. This is a fixed answer served by the static upstream of the benchmark so that every gateway forwards exactly the same bytes.null", "chatcmpl-bench0001", "bench-upstream", "stop" },
        { "two-choices", "OneTwo \u00e9 \"q\"", "c2", "m2", "stop,length" },
        { "tool-calls", "null[ {\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\": 1}\"}} ]", "c3", "m3", "tool_calls" },
        { "no-finish", "cut", "c4", "m4", "" },
        { "error", "", null, null, "" },
        { "error-string", "", null, null, "" },
        { "usage-details", "okthinking", "c5", "deepseek-chat", "stop" },
        { "escaped-fields", "\ud83e\udd8a foxno", "c6", "m\u00e9", "stop" },
        { "duplicates", "b", "first", null, "stop,length" },
        { "odd-shapes", "[{\"type\":\"text\",\"text\":\"part\"}]1.50true", null, null, "stop" },
        { "empty", "", null, null, "" },
        { "not-json", "", null, null, "" },
    };

    private static byte[] Body(string name) => Encoding.UTF8.GetBytes(BodyCorpus.Answers.Single(a => a.Name == name).Body);

    [Theory]
    [MemberData(nameof(Golden))]
    public void The_text_id_model_and_finish_reasons_are_the_ones_read_before(string name, string text, string? id, string? model, string reasons)
    {
        var facts = CompletionFacts.ReadOrNone(Body(name));
        Assert.Equal(text, facts.Text);
        Assert.Equal(text, CostAccountant.CompletionText(Body(name)));
        Assert.Equal(id, facts.Id);
        Assert.Equal(model, facts.Model);
        Assert.Equal(reasons, string.Join(',', facts.FinishReasons));
    }

    [Theory]
    [MemberData(nameof(Golden))]
    public void The_usage_finish_error_and_choices_are_the_inspectors(string name, string text, string? id, string? model, string reasons)
    {
        _ = (text, id, model, reasons);
        var body = Body(name);
        OpenAiPayloadInspector.Findings expected;
        try
        {
            expected = OpenAiPayloadInspector.Inspect(body);
        }
        catch (JsonException)
        {
            Assert.ThrowsAny<JsonException>(() => CompletionFacts.Read(body));
            Assert.False(CompletionFacts.ReadOrNone(body).IsComplete);
            return;
        }
        var facts = CompletionFacts.Read(body);
        Assert.Equal(expected.Usage, facts.Usage);
        Assert.Equal(expected.HasFinishReason, facts.HasFinishReason);
        Assert.Equal(expected.ErrorMessage, facts.ErrorMessage);
        Assert.Equal(expected.ChoiceCount, facts.ChoiceCount);
        Assert.Equal(expected.HasFinishReason && expected.ErrorMessage is null, facts.IsComplete);
    }

    [Fact]
    public void Every_answer_of_the_corpus_is_pinned() =>
        Assert.Equal(BodyCorpus.Answers.Select(a => a.Name).Order(), Golden.Select(row => (string)row[0]).Order());

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("")]
    [InlineData("{\"choices\":[1,\"two\",null,{\"message\":{\"content\":\"ok\"},\"finish_reason\":{}}]}")]
    public void A_body_of_another_shape_has_no_text_and_never_throws_anything_but_a_json_error(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var facts = CompletionFacts.ReadOrNone(bytes);
        _ = facts.Text;
        _ = facts.FinishReasons;
        Assert.False(facts.IsComplete);
    }

    [Fact]
    public void A_scrubbed_answer_is_read_again_so_its_text_holds_no_key()
    {
        const string key = "sk-test-0123456789abcdefghijklmnop";
        var body = Encoding.UTF8.GetBytes(BodyCorpus.BenchAnswer.Replace("The quick brown fox", "Your key is " + key, StringComparison.Ordinal));
        var original = new ProviderCompletion(body, default) { Facts = CompletionFacts.Read(body) };
        Assert.Contains(key, original.Facts.Text, StringComparison.Ordinal);

        var redactor = new SecretRedactor();
        redactor.Add(key);
        var scrubbed = redactor.ScrubCompletion(original);

        Assert.NotSame(original, scrubbed);
        Assert.DoesNotContain(key, scrubbed.Facts.Text, StringComparison.Ordinal);
        Assert.True(scrubbed.Facts.IsComplete);
        Assert.Equal("chatcmpl-bench0001", scrubbed.Facts.Id);
    }
}
