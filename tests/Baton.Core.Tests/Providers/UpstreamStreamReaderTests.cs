using System.Text;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.Anthropic;
using Baton.Providers.Gemini;
using Baton.Providers.Ollama;

namespace Baton.Core.Tests.Providers;

/// <summary>A connection that breaks in the middle of a translated stream, whatever the wire format.</summary>
public sealed class UpstreamStreamReaderTests
{
    private const string Key = "sk-upstream-key-that-must-not-leak-123";

    public static TheoryData<string> Formats => new("anthropic", "gemini", "ollama");

    private static ProviderStream Open(string format, Stream body, SecretRedactor redactor) => format switch
    {
        "anthropic" => new AnthropicStreamTranslator("test-anthropic", body, 1_700_000_000, redactor),
        "gemini" => new GeminiSseStream("test-gemini", new HttpResponseMessage(), body, new GeminiStreamTranslator("m", 1_700_000_000), redactor),
        _ => new OllamaChatStream("test-ollama", body, null, "m", TimeProvider.System, redactor),
    };

    private static byte[] FirstEvent(string format) => Encoding.UTF8.GetBytes(format switch
    {
        "anthropic" => """event: message_start""" + "\n" + """data: {"type":"message_start","message":{"id":"msg_1","model":"claude","usage":{"input_tokens":5,"output_tokens":1}}}""" + "\n\n",
        "gemini" => """data: {"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"}}]}""" + "\n\n",
        _ => """{"model":"m","message":{"role":"assistant","content":"Hello"},"done":false}""" + "\n",
    });

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task A_connection_broken_mid_stream_is_stream_interrupted_without_the_key(string format)
    {
        var redactor = new SecretRedactor();
        redactor.Add(Key);
        await using var stream = Open(format, new BreakingStream(FirstEvent(format)), redactor);

        var chunks = 0;
        var error = await Assert.ThrowsAsync<BatonException>(async () =>
        {
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
                chunks++;
            }
        });

        Assert.True(chunks > 0, "the chunks before the break are delivered");
        Assert.Equal("stream_interrupted", error.Code);
        Assert.Contains("connection reset", error.Message);
        Assert.DoesNotContain(Key, error.Message);
    }

    /// <summary>Gives its bytes, then fails the next read as a reset connection would, echoing a key in the message.</summary>
    private sealed class BreakingStream(byte[] first) : Stream
    {
        private int _position;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= first.Length)
            {
                throw new IOException($"connection reset (key {Key})");
            }
            var count = Math.Min(buffer.Length, first.Length - _position);
            first.AsMemory(_position, count).CopyTo(buffer);
            _position += count;
            return ValueTask.FromResult(count);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
