using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Baton.Configuration;
using Baton.Providers;
using Baton.Providers.Anthropic;
using Baton.Providers.Translation;

namespace Baton.Benchmarks;

/// <summary>OpenAI Chat Completions to Anthropic Messages and back: request, answer and a streamed answer.</summary>
[MemoryDiagnoser]
public class TranslationBenchmarks
{
    private static readonly byte[] AnthropicMessage = Encoding.UTF8.GetBytes(
        """{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"The quick brown fox jumps over the lazy dog. This is a fixed answer."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":42,"output_tokens":16,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}""");

    private static readonly byte[] AnthropicStream = BuildAnthropicStream();

    private readonly RequestDefaults _defaults = new();
    private readonly SecretRedactor _redactor = new();

    [Benchmark]
    public int RequestToAnthropic()
    {
        var body = OpenAiChatBody.Read(Payloads.Request, _defaults);
        using var translated = AnthropicRequestTranslator.Translate(body, "claude-sonnet-4-5", stream: false);
        return translated.Length;
    }

    [Benchmark]
    public int LongRequestToAnthropic()
    {
        var body = OpenAiChatBody.Read(Payloads.LongRequest, _defaults);
        using var translated = AnthropicRequestTranslator.Translate(body, "claude-sonnet-4-5", stream: false);
        return translated.Length;
    }

    [Benchmark]
    public int AnswerFromAnthropic()
    {
        using var document = JsonDocument.Parse(AnthropicMessage);
        var completion = AnthropicResponseTranslator.Translate(document.RootElement, 1735689600);
        return completion.Body.Length;
    }

    [Benchmark]
    public async Task<int> StreamFromAnthropic()
    {
        await using var stream = new AnthropicStreamTranslator("anthropic", new MemoryStream(AnthropicStream, writable: false), 1735689600, _redactor);
        var bytes = 0;
        await foreach (var chunk in stream.ReadAsync(CancellationToken.None))
        {
            bytes += chunk.Json.Length;
        }
        return bytes;
    }

    private static byte[] BuildAnthropicStream()
    {
        var sse = new StringBuilder();
        void Event(string type, string data) => sse.Append("event: ").Append(type).Append("\ndata: ").Append(data).Append("\n\n");
        Event("message_start", """{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":42,"output_tokens":1}}}""");
        Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""");
        foreach (var word in "The quick brown fox jumps over the lazy dog . This is a fixed stream".Split(' '))
        {
            Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" """ + word + "\"}}");
        }
        Event("content_block_stop", """{"type":"content_block_stop","index":0}""");
        Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}""");
        Event("message_stop", """{"type":"message_stop"}""");
        return Encoding.UTF8.GetBytes(sse.ToString());
    }
}
