using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Pipelines.Outputs;

namespace Baton.Core.Tests.Pipelines.Outputs;

/// <summary>Finding the JSON in what models actually write: reasoning, fences, prose, and small syntax slips.</summary>
public sealed class JsonOutputExtractionTests
{
    private static readonly JsonOutputReader BusinessReader = new(AnalysisSchemas.Business);

    private const string BusinessJson = """
        {
          "problem_solved": "Developers lose track of which side projects are worth finishing.",
          "target_audience": "Solo developers with many repositories",
          "monetization_strategy": "Free CLI, paid hosted dashboard",
          "market_viability": 6,
          "portfolio_suitable": true,
          "portfolio_pitch": "Scans a folder of projects and tells you which one to ship next."
        }
        """;

    [Fact]
    public void Reasoning_model_answer_with_braces_inside_its_think_block_reads_the_final_json()
    {
        var answer = """
            <think>
            The user wants JSON like {"problem_solved": "...", "market_viability": 0-10}. Let me consider {
            the audience first. Maybe I should say market_viability is 9? No, {"market_viability": 9} is too high;
            the competition is strong. I'll settle on 6 and mark it portfolio-worthy.
            </think>

            """ + BusinessJson;

        var result = BusinessReader.Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(6, result.Value!["market_viability"]!.GetValue<int>());
        Assert.Equal("Free CLI, paid hosted dashboard", result.Value["monetization_strategy"]!.GetValue<string>());
        Assert.Empty(result.Coercions);
    }

    [Fact]
    public void Closing_think_tag_without_an_opening_one_drops_the_reasoning_before_it()
    {
        var answer = "Okay, {\"market_viability\": 10} would be wrong here.\n</think>\n" + BusinessJson;

        var result = BusinessReader.Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(6, result.Value!["market_viability"]!.GetValue<int>());
    }

    [Fact]
    public void Unclosed_thinking_block_is_dropped_up_to_the_json()
    {
        var answer = "<thinking>Weighing the market carefully, the answer follows.\n" + BusinessJson;

        var result = BusinessReader.Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.True(result.Value!["portfolio_suitable"]!.GetValue<bool>());
    }

    [Fact]
    public void Several_leading_think_blocks_are_all_dropped()
    {
        var answer = "<think>First pass: {\"market_viability\": 2}</think>\n<THINK>Second pass: [draft]</THINK>\n" + BusinessJson;

        var result = BusinessReader.Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(6, result.Value!["market_viability"]!.GetValue<int>());
    }

    [Fact]
    public void A_think_tag_quoted_inside_the_answer_is_kept()
    {
        var result = new JsonOutputReader(null).Read("{\"tip\": \"wrap reasoning in <think>...</think> tags\", \"n\": 1}");

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal("wrap reasoning in <think>...</think> tags", result.Value!["tip"]!.GetValue<string>());
    }

    [Fact]
    public void A_closing_think_tag_quoted_inside_the_answer_does_not_lose_the_answer()
    {
        var result = new JsonOutputReader(null).Read("{\"tip\": \"end the reasoning with </think>\"}");

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal("end the reasoning with </think>", result.Value!["tip"]!.GetValue<string>());
    }

    [Fact]
    public void Fenced_block_with_prose_before_and_after_is_read()
    {
        var answer = "Here is my analysis of the project:\n\n```json\n" + BusinessJson + "\n```\n\nLet me know if you want {more} detail!";

        var result = BusinessReader.Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal("Solo developers with many repositories", result.Value!["target_audience"]!.GetValue<string>());
    }

    [Fact]
    public void Plain_fence_without_a_language_is_read()
    {
        var result = new JsonOutputReader(null).Read("Result:\n```\n{\"ok\": true}\n```");

        Assert.True(result.IsValid, result.Describe());
        Assert.True(result.Value!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public void Of_two_fenced_blocks_the_first_that_validates_wins()
    {
        var first = BusinessJson.Replace("\"market_viability\": 6", "\"market_viability\": 4", StringComparison.Ordinal);
        var second = BusinessJson.Replace("\"market_viability\": 6", "\"market_viability\": 9", StringComparison.Ordinal);
        var answer = $"Draft:\n```json\n{first}\n```\nRevised:\n```json\n{second}\n```";

        var result = BusinessReader.Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(4, result.Value!["market_viability"]!.GetValue<int>());
    }

    [Fact]
    public void An_example_that_fails_the_schema_loses_to_a_later_block_that_passes()
    {
        var answer = "The format is:\n```json\n{\"market_viability\": \"0-10\"}\n```\nMy answer:\n```json\n" + BusinessJson + "\n```";

        var result = BusinessReader.Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(6, result.Value!["market_viability"]!.GetValue<int>());
    }

    [Fact]
    public void When_no_candidate_validates_the_first_ones_problems_are_reported()
    {
        var answer = "```json\n{\"market_viability\": 5}\n```\n```json\n{\"portfolio_suitable\": true}\n```";

        var result = BusinessReader.Read(answer);

        Assert.False(result.IsValid);
        Assert.Equal(5, result.Value!["market_viability"]!.GetValue<int>());
        Assert.Contains(result.Problems, p => p.Path == "$.portfolio_suitable" && p.Message == "required property 'portfolio_suitable' is missing");
    }

    [Fact]
    public void Unfenced_json_inside_prose_is_found_by_balanced_scanning_with_braces_inside_strings()
    {
        var answer = "Sure! My assessment: {\"note\": \"a } in a string, and an escaped \\\" quote {\", \"n\": [1, {\"deep\": 2}]} Hope that helps.";

        var result = new JsonOutputReader(null).Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal("a } in a string, and an escaped \" quote {", result.Value!["note"]!.GetValue<string>());
        Assert.Equal(2, result.Value["n"]![1]!["deep"]!.GetValue<int>());
    }

    [Fact]
    public void Trailing_commas_comments_and_a_byte_order_mark_are_tolerated()
    {
        var answer = "\uFEFF{\n  \"design_patterns\": [\"Repository\", \"Strategy\",],\n  // the main finding\n  \"architecture_assessment\": \"Layered\",\n  \"scalability_notes\": \"Stateless API\",\n  \"technical_debt_priority\": \"medium\",\n}";

        var result = new JsonOutputReader(AnalysisSchemas.Architect).Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(["Repository", "Strategy"], result.Value!["design_patterns"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void Typographic_quotes_around_keys_and_strings_are_made_plain()
    {
        var answer = "{\u201Coverall_assessment\u201D: \u201CSolid\u201D, \u201Ctop_priorities\u201D: [\u201CTests\u201D], \u201Cvibecodibility_score\u201D: 7, \u201Cborg_tools_fit\u201D: 8}";

        var result = new JsonOutputReader(AnalysisSchemas.Aggregated).Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal("Solid", result.Value!["overall_assessment"]!.GetValue<string>());
        Assert.Contains(result.Coercions, line => line.Contains("typographic quotes", StringComparison.Ordinal));
    }

    [Fact]
    public void Typographic_quotes_inside_a_valid_string_are_left_alone()
    {
        var result = new JsonOutputReader(null).Read("{\"quote\": \"they called it \u201Cdone\u201D\"}");

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal("they called it \u201Cdone\u201D", result.Value!["quote"]!.GetValue<string>());
        Assert.Empty(result.Coercions);
    }

    [Fact]
    public void Array_schema_reads_the_array_not_an_object_mentioned_before_it()
    {
        using var schema = JsonDocument.Parse("""{"type":"array","items":{"type":"string"}}""");
        var reader = new JsonOutputReader(schema.RootElement);

        var result = reader.Read("Using the format {name} per item, here they are: [\"add tests\", \"ship docker image\"]");

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(["add tests", "ship docker image"], result.Value!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void No_json_at_all_is_one_problem_at_the_root_quoting_the_answer()
    {
        var result = BusinessReader.Read("I'm sorry, I can't evaluate this project without seeing its code.");

        Assert.False(result.IsValid);
        Assert.Null(result.Value);
        var problem = Assert.Single(result.Problems);
        Assert.Equal("$", problem.Path);
        Assert.Equal("no JSON object was found in the answer, which begins: \"I'm sorry, I can't evaluate this project without seeing its code.\"", problem.Message);
    }

    [Fact]
    public void No_json_quote_is_cut_at_two_hundred_characters()
    {
        var answer = new string('x', 5000);

        var problem = Assert.Single(BusinessReader.Read(answer).Problems);

        Assert.Contains(new string('x', 200) + "…", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 201), problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_json_is_not_completed_by_guessing()
    {
        var result = BusinessReader.Read("```json\n{\"problem_solved\": \"Tracking side projects\", \"market_viab");

        Assert.Null(result.Value);
        Assert.StartsWith("no JSON object was found", Assert.Single(result.Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_object_nested_in_a_python_style_dict_is_not_taken_for_the_answer()
    {
        var result = new JsonOutputReader(null).Read("{'summary': 'ok', 'details': {\"score\": 7}}");

        Assert.Null(result.Value);
        Assert.StartsWith("no JSON object or array was found", Assert.Single(result.Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_broken_attempt_followed_by_a_corrected_one_reads_the_correction()
    {
        var answer = "{\"market_viability\": 6 \"portfolio_suitable\": true}\nSorry, that was malformed. Corrected:\n" + BusinessJson;

        var result = BusinessReader.Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal("Free CLI, paid hosted dashboard", result.Value!["monetization_strategy"]!.GetValue<string>());
    }

    [Fact]
    public void Empty_answer_says_it_is_empty()
    {
        var problem = Assert.Single(new JsonOutputReader(null).Read("  \n").Problems);

        Assert.Equal(new JsonOutputProblem("$", "no JSON object or array was found: the answer is empty"), problem);
    }

    [Fact]
    public void Null_schema_accepts_any_object_or_array_without_coercion()
    {
        var reader = new JsonOutputReader(null);

        var obj = reader.Read("{\"score\": \"7\", \"flag\": \"yes\"}");
        var array = reader.Read("[1, 2, 3]");

        Assert.True(obj.IsValid);
        Assert.Equal("7", obj.Value!["score"]!.GetValue<string>());
        Assert.Empty(obj.Coercions);
        Assert.True(array.IsValid);
        Assert.Equal(3, array.Value!.AsArray().Count);
    }

    [Fact]
    public void A_large_answer_full_of_braces_in_prose_is_read()
    {
        var prose = string.Concat(Enumerable.Repeat("In {this} section the {config} uses [brackets] and \"quotes\". ", 1000));
        var answer = prose + "\n```json\n{\"ok\": true}\n```";

        var result = new JsonOutputReader(null).Read(answer);

        Assert.True(answer.Length > 50_000);
        Assert.True(result.IsValid, result.Describe());
        Assert.True(result.Value!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public void Unfenced_json_after_prose_full_of_braces_is_found()
    {
        var prose = string.Concat(Enumerable.Repeat("Set {port} and {host} in [config]. ", 2000));

        var result = new JsonOutputReader(null).Read(prose + "{\"port\": 8080}");

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(8080, result.Value!["port"]!.GetValue<int>());
    }

    [Fact]
    public void Thousands_of_unbalanced_openers_end_in_a_problem_not_a_long_scan()
    {
        var answer = string.Concat(Enumerable.Repeat("{\"a\": ", 50_000)) + "1";

        var result = new JsonOutputReader(null).Read(answer);

        Assert.Null(result.Value);
        Assert.Equal("$", Assert.Single(result.Problems).Path);
    }

    [Fact]
    public void Reader_owns_its_schema_after_the_callers_document_is_disposed()
    {
        JsonOutputReader reader;
        using (var schema = JsonDocument.Parse("""{"type":"object","required":["a"]}"""))
        {
            reader = new JsonOutputReader(schema.RootElement);
        }

        Assert.True(reader.Read("{\"a\": 1}").IsValid);
        Assert.Equal("$.a", Assert.Single(reader.Read("{}").Problems).Path);
        Assert.Contains("\"required\":[\"a\"]", reader.Instructions, StringComparison.Ordinal);
    }
}
