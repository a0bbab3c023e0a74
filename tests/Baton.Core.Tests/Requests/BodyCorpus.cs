using System.Text;

namespace Baton.Core.Tests.Requests;

/// <summary>
/// Requests and answers of every shape the gateway reads, for tests that pin what is computed from them (cache keys,
/// token counts, an answer's text) to the values the previous implementation gave.
/// </summary>
internal static class BodyCorpus
{
    /// <summary>The overhead benchmark's request.</summary>
    public const string BenchRequest =
        """{"model":"bench","messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Write one sentence about a fox and a dog, for a benchmark."}],"temperature":0.2,"max_tokens":64}""";

    /// <summary>The overhead benchmark's answer.</summary>
    public const string BenchAnswer =
        """{"id":"chatcmpl-bench0001","object":"chat.completion","created":1735689600,"model":"bench-upstream","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"The quick brown fox jumps over the lazy dog. This is a fixed answer served by the static upstream of the benchmark so that every gateway forwards exactly the same bytes.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":42,"completion_tokens":36,"total_tokens":78,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}""";

    /// <summary>Named request bodies: valid Chat Completions requests the parser accepts.</summary>
    public static IReadOnlyList<(string Name, string Body)> Requests { get; } =
    [
        ("bench", BenchRequest),
        ("long-conversation", LongConversation()),
        ("reordered-spaced", """{ "max_tokens" : 64, "temperature" : 0.20, "messages" : [ {"content":"You are a concise assistant.","role":"system"}, {"content":"Write one sentence about a fox and a dog, for a benchmark.","role":"user"} ], "model" : "bench" }"""),
        ("excluded-fields", """{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"metadata":{"session_id":"s1","tags":"a,b"},"user":"u1","store":false,"service_tier":"auto","messages":[{"role":"user","content":"Hello, world!"}]}"""),
        ("escaped-names", """{"m\u006fdel":"gpt-4o","\u0074emperature":0.7,"messages":[{"r\u006fle":"user","c\u006fntent":"Hi \u00e9t\u00e9 \ud83d\ude00 \"quoted\" \\ back\/slash"}],"\u006detadata":{"a":1}}"""),
        ("unicode", """{"model":"gpt-4o","messages":[{"role":"system","content":"日本語のテキストと絵文字 🦊🐕 and <html> & 'quotes'"},{"role":"user","content":"Ünïcödé wörds, tabs\tand\nnewlines"}]}"""),
        ("numbers", """{"model":"gpt-4o","temperature":1.50,"top_p":1e-1,"presence_penalty":-0.0,"frequency_penalty":2,"seed":12345678901234,"max_tokens":100,"logit_bias":{"50256":-100,"1000":1.0E+1},"x_big":1e400,"x_precise":0.1000000000000000055511151231257827,"messages":[{"role":"user","content":"n"}]}"""),
        ("parts-and-images", """{"model":"gpt-4.1","messages":[{"role":"user","content":[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}},{"type":"text","text":"Answer in French."}]}]}"""),
        ("tools-and-calls", """{"model":"gpt-4o-mini","tool_choice":"auto","tools":[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string","description":"The city"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"]}}}],"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}}]},{"role":"tool","tool_call_id":"call_1","name":"get_weather","content":"18 C, cloudy"}]}"""),
        ("gpt-4-encoding", """{"model":"openai/gpt-4-turbo:beta","messages":[{"role":"developer","content":"Reply with one word."},{"role":"user","content":"Colour of the sky?","name":"alice"}],"stop":["\n","END"],"n":1,"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object","properties":{"b":{"type":"boolean"},"a":{"type":"null"}}}}}}"""),
        ("nested-unknowns", """{"model":"llama3","messages":[{"role":"user","content":"x","extra":{"z":[1,{"b":true,"a":null}],"a":[[],{},""]}}],"z_field":[{"y":2,"x":1}],"a_field":{"":"empty name","\u00e9":"e-acute","e":"plain"}}"""),
        ("long-texts", LongTexts()),
        ("duplicate-keys", """{"model":"gpt-4o","temperature":0.1,"temperature":0.9,"messages":[{"role":"user","content":"first"}],"messages":[{"role":"user","content":"second and longer"}]}"""),
    ];

    /// <summary>Named answer bodies, well-formed or not.</summary>
    public static IReadOnlyList<(string Name, string Body)> Answers { get; } =
    [
        ("bench", BenchAnswer),
        ("two-choices", """{"id":"c2","model":"m2","choices":[{"index":0,"message":{"role":"assistant","content":"One"},"finish_reason":"stop"},{"index":1,"message":{"content":"Two \u00e9 \"q\"","role":"assistant"},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"""),
        ("tool-calls", """{"id":"c3","object":"chat.completion","model":"m3","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[ {"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}} ]},"finish_reason":"tool_calls"}]}"""),
        ("no-finish", """{"id":"c4","model":"m4","choices":[{"index":0,"message":{"role":"assistant","content":"cut"},"finish_reason":null}]}"""),
        ("error", """{"error":{"message":"The server had an error","type":"server_error"}}"""),
        ("error-string", """{"error":"overloaded","choices":[]}"""),
        ("usage-details", """{"id":"c5","model":"deepseek-chat","choices":[{"message":{"role":"assistant","content":"ok","reasoning_content":"thinking"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":20,"prompt_cache_hit_tokens":64,"prompt_tokens_details":{"cached_tokens":32,"cache_write_tokens":8},"completion_tokens_details":{"reasoning_tokens":12}}}"""),
        ("escaped-fields", """{"\u0069d":"c6","m\u006fdel":"m\u00e9","choices":[{"message":{"r\u006fle":"assistant","content":"\ud83e\udd8a fox","refusal":"no"},"finish_reason":"st\u006fp"}]}"""),
        ("duplicates", """{"id":"first","id":"second","choices":[{"message":{"content":"old"},"finish_reason":"stop"}],"choices":[{"message":{"content":"a"},"message":{"content":"b"},"finish_reason":"length"}]}"""),
        ("odd-shapes", """{"id":7,"model":null,"choices":[{"message":"not an object","finish_reason":"stop"},{"message":{"content":[{"type":"text","text":"part"}],"n":1.50,"t":true}}]}"""),
        ("empty", "{}"),
        ("not-json", """{"choices":[{"message":{"content":"x"}"""),
    ];

    private static string LongConversation()
    {
        var json = new StringBuilder();
        json.Append("""{"model":"bench","temperature":0.3,"max_tokens":512,"messages":[{"role":"system","content":"You are a careful coding assistant. Answer briefly."}""");
        for (var i = 0; i < 20; i++)
        {
            json.Append(",{\"role\":\"user\",\"content\":\"Question ").Append(i)
                .Append(": explain what the function at line ").Append(i * 10).Append(" does, and whether it can throw on a null argument.\"}");
            json.Append(",{\"role\":\"assistant\",\"content\":\"It validates the argument, then copies the span into a pooled buffer; it throws ArgumentNullException ")
                .Append("only when the caller passes null explicitly. Answer ").Append(i).Append(".\"}");
        }
        json.Append("""],"tools":[{"type":"function","function":{"name":"read_file","description":"Reads a file","parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}}]}""");
        return json.ToString();
    }

    /// <summary>Texts longer than one tokenizer piece: a long run of one letter, prose, and escapes in a long string.</summary>
    private static string LongTexts()
    {
        var prose = string.Concat(Enumerable.Repeat("The fox, quick and brown, jumped over 12 lazy dogs; then it rested. ", 40));
        var run = new string('x', 5000);
        return "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prose + "\"},{\"role\":\"assistant\",\"content\":\"" + run +
               "\"},{\"role\":\"user\",\"content\":\"" + string.Concat(Enumerable.Repeat("caf\\u00e9 \\\"line\\\"\\n", 200)) + "\"}]}";
    }
}
