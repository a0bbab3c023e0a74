using System.Text;
using System.Text.Json;

namespace Baton.Providers.Anthropic;

/// <summary>
/// A stream event read in one pass over its bytes, without a document: what a stream's events carry (the type, the
/// block's index, the delta, the message that starts the stream, the block that starts, the usage), each text as
/// UTF-8, unescaped only when it has escapes.
/// </summary>
internal readonly ref struct AnthropicStreamEvent
{
    /// <summary>The event's type as its payload names it; empty with <see cref="TypeNamed"/> false when it names none.</summary>
    public ReadOnlySpan<byte> Type { get; private init; }

    public bool TypeNamed { get; private init; }

    /// <summary>The block's index; -1 when there is none, or it is not a whole number.</summary>
    public int Index { get; private init; }

    /// <summary>Whether the event has a <c>delta</c> object (the delta's fields below are its own).</summary>
    public bool HasDelta { get; private init; }

    public ReadOnlySpan<byte> DeltaType { get; private init; }

    public ReadOnlySpan<byte> Text { get; private init; }

    public ReadOnlySpan<byte> Thinking { get; private init; }

    public ReadOnlySpan<byte> PartialJson { get; private init; }

    public ReadOnlySpan<byte> Signature { get; private init; }

    public ReadOnlySpan<byte> StopReason { get; private init; }

    /// <summary>Whether the event has a <c>message</c> object (<c>message_start</c>); its fields below.</summary>
    public bool HasMessage { get; private init; }

    public ReadOnlySpan<byte> MessageId { get; private init; }

    public ReadOnlySpan<byte> MessageModel { get; private init; }

    /// <summary>The message's <c>usage</c> object, when it has one.</summary>
    public UsageCounts? MessageUsage { get; private init; }

    /// <summary>The event's own <c>usage</c> object (<c>message_delta</c>), when it has one.</summary>
    public UsageCounts? Usage { get; private init; }

    /// <summary>Whether the event has a <c>content_block</c> object (<c>content_block_start</c>); its fields below.</summary>
    public bool HasBlock { get; private init; }

    public ReadOnlySpan<byte> BlockType { get; private init; }

    public ReadOnlySpan<byte> BlockId { get; private init; }

    public ReadOnlySpan<byte> BlockName { get; private init; }

    public ReadOnlySpan<byte> BlockText { get; private init; }

    public ReadOnlySpan<byte> BlockThinking { get; private init; }

    /// <summary>Whether the event is of type <paramref name="name"/>: as its payload names it, or else as its event: line does.</summary>
    public bool Is(ReadOnlySpan<byte> name, string eventType) => TypeNamed ? Type.SequenceEqual(name) : Ascii.Equals(name, eventType);

    /// <summary>
    /// Reads <paramref name="data"/>: false when it is not one JSON object, or has a <c>delta</c>, <c>message</c>,
    /// <c>content_block</c> or <c>usage</c> that is not an object (the general reading then says what is wrong, if
    /// anything). Other fields of the wrong kind read as absent, as the general reading has them, and the last of a
    /// repeated field counts. Its strings are found, or unescaped, by <paramref name="strings"/>.
    /// </summary>
    /// <exception cref="JsonException">Not JSON.</exception>
    /// <exception cref="InvalidOperationException">A string that is not UTF-8.</exception>
    public static bool TryRead(ReadOnlySpan<byte> data, EventStrings strings, out AnthropicStreamEvent read)
    {
        read = default;
        strings.Begin(data.Length);
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }
        var index = -1;
        bool hasDelta = false, hasMessage = false, hasBlock = false;
        UsageCounts? usage = null, messageUsage = null;
        EventString type = default, deltaType = default, text = default, thinking = default, partialJson = default, signature = default,
            stopReason = default, messageId = default, messageModel = default,
            blockType = default, blockId = default, blockName = default, blockText = default, blockThinking = default,
            ignored = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = strings.Read(ref reader);
            }
            else if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                index = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number) ? number : -1;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                if (!StartObject(ref reader))
                {
                    return false;
                }
                hasDelta = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    ref var field = ref reader.ValueTextEquals("type"u8) ? ref deltaType
                        : ref reader.ValueTextEquals("text"u8) ? ref text
                        : ref reader.ValueTextEquals("thinking"u8) ? ref thinking
                        : ref reader.ValueTextEquals("partial_json"u8) ? ref partialJson
                        : ref reader.ValueTextEquals("signature"u8) ? ref signature
                        : ref reader.ValueTextEquals("stop_reason"u8) ? ref stopReason
                        : ref ignored;
                    reader.Read();
                    field = strings.Read(ref reader);
                }
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                if (!StartObject(ref reader))
                {
                    return false;
                }
                hasMessage = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("usage"u8))
                    {
                        if (!StartObject(ref reader))
                        {
                            return false;
                        }
                        messageUsage = ReadUsage(ref reader);
                        continue;
                    }
                    ref var field = ref reader.ValueTextEquals("id"u8) ? ref messageId
                        : ref reader.ValueTextEquals("model"u8) ? ref messageModel
                        : ref ignored;
                    reader.Read();
                    field = strings.Read(ref reader);
                }
            }
            else if (reader.ValueTextEquals("content_block"u8))
            {
                if (!StartObject(ref reader))
                {
                    return false;
                }
                hasBlock = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    ref var field = ref reader.ValueTextEquals("type"u8) ? ref blockType
                        : ref reader.ValueTextEquals("id"u8) ? ref blockId
                        : ref reader.ValueTextEquals("name"u8) ? ref blockName
                        : ref reader.ValueTextEquals("text"u8) ? ref blockText
                        : ref reader.ValueTextEquals("thinking"u8) ? ref blockThinking
                        : ref ignored;
                    reader.Read();
                    field = strings.Read(ref reader);
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                if (!StartObject(ref reader))
                {
                    return false;
                }
                usage = ReadUsage(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // Anything after the object: not JSON, as a document would say (Read throws).
        if (reader.Read())
        {
            return false;
        }
        read = new AnthropicStreamEvent
        {
            Type = strings.Of(type, data),
            TypeNamed = type.Present,
            Index = index,
            HasDelta = hasDelta,
            DeltaType = strings.Of(deltaType, data),
            Text = strings.Of(text, data),
            Thinking = strings.Of(thinking, data),
            PartialJson = strings.Of(partialJson, data),
            Signature = strings.Of(signature, data),
            StopReason = strings.Of(stopReason, data),
            HasMessage = hasMessage,
            MessageId = strings.Of(messageId, data),
            MessageModel = strings.Of(messageModel, data),
            MessageUsage = messageUsage,
            Usage = usage,
            HasBlock = hasBlock,
            BlockType = strings.Of(blockType, data),
            BlockId = strings.Of(blockId, data),
            BlockName = strings.Of(blockName, data),
            BlockText = strings.Of(blockText, data),
            BlockThinking = strings.Of(blockThinking, data),
        };
        return true;
    }

    /// <summary>Moves onto the value of the property the reader is on: true when it is an object.</summary>
    private static bool StartObject(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType == JsonTokenType.StartObject;

    /// <summary>A <c>usage</c> object's counts, the reader on its start; it ends on the object's end.</summary>
    private static UsageCounts ReadUsage(ref Utf8JsonReader reader)
    {
        int? input = null, output = null, cacheRead = null, cacheCreation = null, ignored = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref var count = ref reader.ValueTextEquals("input_tokens"u8) ? ref input
                : ref reader.ValueTextEquals("output_tokens"u8) ? ref output
                : ref reader.ValueTextEquals("cache_read_input_tokens"u8) ? ref cacheRead
                : ref reader.ValueTextEquals("cache_creation_input_tokens"u8) ? ref cacheCreation
                : ref ignored;
            reader.Read();
            // A number that is no whole count counts 0, as the general reading has it; anything else is no count.
            count = reader.TokenType == JsonTokenType.Number ? (reader.TryGetInt32(out var value) ? value : 0) : null;
            reader.Skip();
        }
        return new UsageCounts(input, output, cacheRead, cacheCreation);
    }
}

/// <summary>The counts of a <c>usage</c> object: null for one it does not carry as a number.</summary>
internal readonly record struct UsageCounts(int? Input, int? Output, int? CacheRead, int? CacheCreation);
