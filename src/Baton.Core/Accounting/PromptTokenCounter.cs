using System.Text.Json;
using Baton.Requests;
using Microsoft.ML.Tokenizers;

namespace Baton.Accounting;

/// <summary>
/// Counts tokens with OpenAI's tiktoken encodings (<c>o200k_base</c> for the GPT-4o and later families,
/// <c>cl100k_base</c> for GPT-4 and GPT-3.5). Other vendors do not publish their tokenizers, so their counts
/// are estimates in the same encoding: good enough for rate-limit and budget pre-checks, and always replaced
/// by the usage a provider reports. Every count is linear in the text's length and bounded (see
/// <see cref="BoundedTokenCount"/>): a hostile run of characters costs in proportion to its length, as ordinary text does.
/// </summary>
public static class PromptTokenCounter
{
    /// <summary>What OpenAI's chat format adds per message (role and separators), and once to prime the answer.</summary>
    private const int TokensPerMessage = 3;
    private const int ReplyPriming = 3;

    // Loading an encoding reads and indexes a 200k-entry vocabulary: once per process, on first use.
    private static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    /// <summary>The encoding for a model id: cl100k for GPT-4, GPT-3.5 and OpenAI's embedding models, o200k for everything else.</summary>
    public static Tokenizer For(string? model)
    {
        var bare = model is null ? "" : Bare(model);
        var older = bare.StartsWith("gpt-3.5", StringComparison.OrdinalIgnoreCase) || bare.StartsWith("text-embedding-", StringComparison.OrdinalIgnoreCase) ||
                    (bare.StartsWith("gpt-4", StringComparison.OrdinalIgnoreCase) && !bare.StartsWith("gpt-4o", StringComparison.OrdinalIgnoreCase) &&
                     !bare.StartsWith("gpt-4.", StringComparison.OrdinalIgnoreCase));
        return older ? Cl100k.Value : O200k.Value;
    }

    /// <summary>The model id without its provider prefix and variant suffix (<c>:nitro</c>, <c>:beta</c>).</summary>
    private static string Bare(string model)
    {
        var slash = model.LastIndexOf('/');
        var bare = slash >= 0 ? model[(slash + 1)..] : model;
        var colon = bare.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 ? bare[..colon] : bare;
    }

    /// <summary>Tokens in a piece of text (e.g. an answer whose stream reported no usage).</summary>
    /// <exception cref="OperationCanceledException">The count was cancelled.</exception>
    public static int Count(string text, string? model = null, CancellationToken cancellationToken = default) =>
        text.Length == 0 ? 0 : BoundedTokenCount.Count(For(model), text, cancellationToken);

    /// <summary>
    /// The prompt's tokens: message texts, names and tool-call arguments, tool definitions, and the chat
    /// format's per-message overhead. Counted once per request and kept (a cancelled count is not kept).
    /// </summary>
    /// <exception cref="OperationCanceledException">The count was cancelled.</exception>
    public static int CountPrompt(ChatRequest request, CancellationToken cancellationToken = default)
    {
        if (request.PromptTokens is { } known)
        {
            return known;
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (request.CountPromptTokens is { } counter)
        {
            request.PromptTokens = counter(cancellationToken);
            return request.PromptTokens.Value;
        }
        var tokenizer = For(request.Model);
        var body = request.Body.Span;
        var count = ReplyPriming;
        var text = new TextBuffer();
        try
        {
            if (request.MessagesToken is { } messages)
            {
                // The parser noted where the messages and the tools are: only they are read again, not the body.
                var reader = new Utf8JsonReader(body[messages]);
                reader.Read();
                count += CountMessages(ref reader, tokenizer, ref text, cancellationToken);
                if (request.ToolsToken is { } tools)
                {
                    count += CountJson(body[tools], tokenizer, ref text, cancellationToken);
                }
            }
            else
            {
                count += CountBody(body, tokenizer, ref text, cancellationToken);
            }
        }
        finally
        {
            text.Dispose();
        }
        request.PromptTokens = count;
        return count;
    }

    /// <summary>Every <c>messages</c> and <c>tools</c> field of a body, in order (a body may repeat one).</summary>
    private static int CountBody(ReadOnlySpan<byte> body, Tokenizer tokenizer, ref TextBuffer text, CancellationToken cancellationToken)
    {
        var count = 0;
        var reader = new Utf8JsonReader(body);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("messages"u8))
            {
                reader.Read();
                count += CountMessages(ref reader, tokenizer, ref text, cancellationToken);
            }
            else if (reader.ValueTextEquals("tools"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                count += CountJson(body[start..(int)(reader.TokenStartIndex + 1)], tokenizer, ref text, cancellationToken);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return count;
    }

    /// <summary>Tool schemas reach the model as text; their JSON is a fair measure of it.</summary>
    private static int CountJson(ReadOnlySpan<byte> json, Tokenizer tokenizer, ref TextBuffer text, CancellationToken cancellationToken) =>
        BoundedTokenCount.Count(tokenizer, text.Decode(json), cancellationToken);

    private static int CountMessages(ref Utf8JsonReader reader, Tokenizer tokenizer, ref TextBuffer text, CancellationToken cancellationToken)
    {
        var count = 0;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return 0;
        }
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.StartObject && reader.CurrentDepth == depth + 1)
            {
                count += TokensPerMessage;
            }
            // Every string in a message is text the model reads (content, text parts, names, tool-call
            // arguments) except the structural ones below.
            if (reader.TokenType == JsonTokenType.PropertyName && IsStructural(ref reader))
            {
                reader.Read();
                reader.Skip();
            }
            else if (reader.TokenType == JsonTokenType.String)
            {
                count += BoundedTokenCount.Count(tokenizer, text.Unescape(ref reader), cancellationToken);
            }
        }
        return count;
    }

    /// <summary>
    /// The characters of the string being counted, in one pooled buffer reused for every string of the prompt: a
    /// prompt's texts are counted without a string each.
    /// </summary>
    private struct TextBuffer : IDisposable
    {
        private char[]? _chars;

        /// <summary>The current string token's value, unescaped (a string's UTF-16 length is at most its UTF-8 length).</summary>
        public ReadOnlySpan<char> Unescape(ref Utf8JsonReader reader)
        {
            var chars = Rent(reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length);
            return chars.AsSpan(0, reader.CopyString(chars));
        }

        /// <summary>UTF-8 as text.</summary>
        public ReadOnlySpan<char> Decode(ReadOnlySpan<byte> utf8)
        {
            var chars = Rent(System.Text.Encoding.UTF8.GetMaxCharCount(utf8.Length));
            return chars.AsSpan(0, System.Text.Encoding.UTF8.GetChars(utf8, chars));
        }

        private char[] Rent(int length)
        {
            if (_chars is null || _chars.Length < length)
            {
                if (_chars is not null)
                {
                    System.Buffers.ArrayPool<char>.Shared.Return(_chars);
                }
                _chars = System.Buffers.ArrayPool<char>.Shared.Rent(Math.Max(length, 256));
            }
            return _chars;
        }

        public void Dispose()
        {
            if (_chars is not null)
            {
                System.Buffers.ArrayPool<char>.Shared.Return(_chars);
                _chars = null;
            }
        }
    }

    private static bool IsStructural(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("role"u8) || reader.ValueTextEquals("type"u8) || reader.ValueTextEquals("id"u8) ||
        reader.ValueTextEquals("tool_call_id"u8) || reader.ValueTextEquals("image_url"u8) || reader.ValueTextEquals("input_audio"u8) ||
        reader.ValueTextEquals("file"u8);
}
