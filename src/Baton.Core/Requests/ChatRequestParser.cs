using System.Text.Json;
using Baton.Errors;

namespace Baton.Requests;

/// <summary>
/// Validates an OpenAI Chat Completions body in one forward pass with <see cref="Utf8JsonReader"/> and
/// records what Baton needs from it. Fields Baton does not know are allowed and passed through.
/// Every rejection is a <see cref="BatonException"/> with status 400 that names the offending parameter.
/// </summary>
public static class ChatRequestParser
{
    private static readonly string[] Roles = ["system", "developer", "user", "assistant", "tool", "function"];

    // Property names compared as UTF-8 (escapes included) so that reading a name allocates nothing; the
    // matching constant is what the rest of the parser switches on.
    private static readonly (byte[] Utf8, string Name)[] TopLevelNames = Utf8Names(
        "model", "messages", "stream", "stream_options", "temperature", "top_p", "presence_penalty", "frequency_penalty",
        "max_tokens", "max_completion_tokens", "n", "seed", "stop", "tools", "tool_choice", "response_format", "user", "metadata");

    private static readonly (byte[] Utf8, string Name)[] MessageNames = Utf8Names("role", "content", "tool_calls", "tool_call_id", "name");

    private static readonly (byte[] Utf8, string Name)[] RoleNames = Utf8Names(Roles);

    /// <summary>
    /// Checks <paramref name="body"/> and reads what Baton needs from it. The request keeps a reference to
    /// <paramref name="body"/>, which must stay unchanged while the request is in use.
    /// </summary>
    /// <param name="body">The client's UTF-8 JSON body.</param>
    /// <returns>The request envelope over the body.</returns>
    /// <exception cref="Errors.BatonException">400: the body is not JSON, not valid UTF-8, or a field has a wrong type or value; its <c>param</c> names the field.</exception>
    public static ChatRequest Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            JsonStringCheck.Validate(body.Span);
            return ParseCore(body);
        }
        catch (JsonException ex)
        {
            throw BatonException.InvalidRequest(
                $"We could not parse the JSON body of your request: {ex.Message}", param: null, code: "invalid_json");
        }
    }

    private static ChatRequest ParseCore(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            throw BatonException.InvalidRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
        }

        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw BatonException.InvalidRequest("The request body must be a JSON object.", null, "invalid_json");
        }

        string? model = null;
        Range modelToken = default;
        var request = new ParsedFields();

        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                request.ClosingBrace = (int)reader.TokenStartIndex;
                break;
            }

            var name = KnownName(ref reader, TopLevelNames);
            reader.Read();
            switch (name)
            {
                case "model":
                    Expect(ref reader, JsonTokenType.String, "model", "a string");
                    // Clients name the same few models request after request: a name seen before is a shared string.
                    model = reader.ValueIsEscaped || reader.HasValueSequence
                        ? reader.GetString()
                        : Providers.OpenAi.ModelNames.Requested.FromUtf8(reader.ValueSpan);
                    if (string.IsNullOrWhiteSpace(model))
                    {
                        throw BatonException.InvalidRequest("'model' must not be empty.", "model");
                    }
                    modelToken = TokenRange(ref reader);
                    break;
                case "messages":
                    var messagesStart = (int)reader.TokenStartIndex;
                    ReadMessages(ref reader, ref request);
                    request.NotePromptField(ref request.MessagesToken, messagesStart..(request.MessagesEnd + 1));
                    break;
                case "stream":
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                    {
                        throw WrongType("stream", "a boolean");
                    }
                    request.Stream = reader.TokenType == JsonTokenType.True;
                    request.StreamToken = TokenRange(ref reader);
                    break;
                case "stream_options":
                    ReadStreamOptions(ref reader, ref request);
                    break;
                case "temperature":
                    request.HasTemperature = ReadNumberInRange(ref reader, "temperature", 0, 2);
                    break;
                case "top_p":
                    request.HasTopP = ReadNumberInRange(ref reader, "top_p", 0, 1);
                    break;
                case "presence_penalty":
                case "frequency_penalty":
                    ReadNumberInRange(ref reader, name, -2, 2);
                    break;
                case "max_tokens":
                case "max_completion_tokens":
                    request.MaxTokens = ReadPositiveInteger(ref reader, name) ?? request.MaxTokens;
                    break;
                case "n":
                    ReadPositiveInteger(ref reader, "n");
                    break;
                case "seed":
                    if (reader.TokenType != JsonTokenType.Null && (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out _)))
                    {
                        throw WrongType("seed", "an integer");
                    }
                    break;
                case "stop":
                    ReadStop(ref reader);
                    break;
                case "tools":
                    var toolsStart = (int)reader.TokenStartIndex;
                    request.HasTools = ReadTools(ref reader);
                    request.NotePromptField(ref request.ToolsToken, toolsStart..((int)reader.TokenStartIndex + 1));
                    break;
                case "tool_choice":
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.StartObject or JsonTokenType.Null))
                    {
                        throw WrongType("tool_choice", "a string or an object");
                    }
                    reader.Skip();
                    break;
                case "response_format":
                    ReadResponseFormat(ref reader);
                    break;
                case "user":
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                    {
                        throw WrongType("user", "a string");
                    }
                    request.User = reader.GetString();
                    break;
                case "metadata":
                    ReadMetadata(ref reader, ref request);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        // Anything after the root object is malformed input, not something to ignore.
        if (reader.Read())
        {
            throw BatonException.InvalidRequest("Unexpected content after the JSON body.", null, "invalid_json");
        }

        if (model is null)
        {
            throw BatonException.InvalidRequest("You must provide a model parameter.", "model", "missing_required_parameter");
        }
        if (!request.SawMessages)
        {
            throw BatonException.InvalidRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
        }

        if (request.HasContext)
        {
            // The context becomes part of the prompt; the body is read again as the upstream will see it.
            return ParseCore(PromptContext.Inject(body.Span));
        }

        return new ChatRequest(body, model)
        {
            Stream = request.Stream,
            IncludeUsage = request.IncludeUsage,
            Options = OptionsOf(ref request),
            MessageCount = request.MessageCount,
            PromptCharacters = request.PromptCharacters,
            MaxTokens = request.MaxTokens,
            HasTools = request.HasTools,
            HasTemperature = request.HasTemperature,
            HasTopP = request.HasTopP,
            ModelToken = modelToken,
            StreamToken = request.StreamToken,
            StreamOptionsToken = request.StreamOptionsToken,
            ClosingBraceIndex = request.ClosingBrace,
            MessagesEndIndex = request.MessagesEnd,
            MessagesToken = request.PromptFieldRepeated ? null : request.MessagesToken,
            ToolsToken = request.ToolsToken,
        };
    }

    /// <summary>The body's Baton metadata; the shared empty options when it has none, as nearly every body does.</summary>
    private static BatonRequestOptions OptionsOf(ref ParsedFields request)
    {
        var cache = request.CacheDisabled
            ? new CacheDirectives(Lookup: false, Store: false)
            : request.CacheTtlSeconds is double ttl ? new CacheDirectives(Ttl: TimeSpan.FromSeconds(ttl)) : CacheDirectives.Default;
        var user = !string.IsNullOrWhiteSpace(request.User) ? request.User : string.IsNullOrWhiteSpace(request.UserId) ? null : request.UserId;
        var project = string.IsNullOrWhiteSpace(request.ProjectId) ? null : request.ProjectId;
        var fallbacks = ChatRequest.SplitModelList(request.Fallbacks);
        var tags = ChatRequest.SplitModelList(request.Tags);
        if (request.Task is null && request.SessionId is null && fallbacks is null && tags is null && user is null && project is null
            && cache == CacheDirectives.Default)
        {
            return BatonRequestOptions.Empty;
        }
        return new BatonRequestOptions
        {
            Task = request.Task,
            SessionId = request.SessionId,
            Fallbacks = fallbacks,
            Cache = cache,
            User = user,
            ProjectId = project,
            Tags = tags,
        };
    }

    private static void ReadMessages(ref Utf8JsonReader reader, ref ParsedFields request)
    {
        Expect(ref reader, JsonTokenType.StartArray, "messages", "an array");
        request.SawMessages = true;
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var path = new ParamPath("messages", index);
            Expect(ref reader, JsonTokenType.StartObject, path, "an object");
            string? role = null;
            var hasContent = false;
            var hasToolCalls = false;
            var hasToolCallId = false;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var field = KnownName(ref reader, MessageNames);
                reader.Read();
                switch (field)
                {
                    case "role":
                        Expect(ref reader, JsonTokenType.String, path.Leaf("role"), "a string");
                        role = KnownName(ref reader, RoleNames);
                        if (role is null)
                        {
                            role = reader.GetString();
                            throw BatonException.InvalidRequest(
                                $"Invalid value for '{path}.role': '{role}'. Supported values are: {string.Join(", ", Roles.Select(r => $"'{r}'"))}.",
                                path + ".role", "invalid_value");
                        }
                        break;
                    case "content":
                        hasContent = ReadContent(ref reader, path, ref request);
                        break;
                    case "tool_calls":
                        Expect(ref reader, JsonTokenType.StartArray, path.Leaf("tool_calls"), "an array");
                        hasToolCalls = true;
                        reader.Skip();
                        break;
                    case "tool_call_id":
                        Expect(ref reader, JsonTokenType.String, path.Leaf("tool_call_id"), "a string");
                        hasToolCallId = true;
                        break;
                    case "name":
                        Expect(ref reader, JsonTokenType.String, path.Leaf("name"), "a string");
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (role is null)
            {
                throw BatonException.InvalidRequest($"Missing required parameter: '{path}.role'.", path + ".role", "missing_required_parameter");
            }
            if (!hasContent && !(role == "assistant" && hasToolCalls))
            {
                throw BatonException.InvalidRequest(
                    $"Missing required parameter: '{path}.content'.", path + ".content", "missing_required_parameter");
            }
            if (role == "tool" && !hasToolCallId)
            {
                throw BatonException.InvalidRequest(
                    $"Missing required parameter: '{path}.tool_call_id'.", path + ".tool_call_id", "missing_required_parameter");
            }
            index++;
        }

        if (index == 0)
        {
            throw BatonException.InvalidRequest("'messages' must contain at least one message.", "messages", "empty_array");
        }
        request.MessagesEnd = (int)reader.TokenStartIndex;
        request.MessageCount = index;
    }

    /// <summary>Returns whether a usable content value was present (null counts as absent).</summary>
    private static bool ReadContent(ref Utf8JsonReader reader, ParamPath message, ref ParsedFields request)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return false;
            case JsonTokenType.String:
                request.PromptCharacters += reader.ValueSpan.Length;
                return true;
            case JsonTokenType.StartArray:
                var part = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var partPath = message.Part("content", part);
                    Expect(ref reader, JsonTokenType.StartObject, partPath, "an object");
                    var hasType = false;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var isType = reader.ValueTextEquals("type"u8);
                        var isText = !isType && reader.ValueTextEquals("text"u8);
                        reader.Read();
                        if (isType)
                        {
                            Expect(ref reader, JsonTokenType.String, partPath.Leaf("type"), "a string");
                            hasType = true;
                        }
                        else if (isText && reader.TokenType == JsonTokenType.String)
                        {
                            request.PromptCharacters += reader.ValueSpan.Length;
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                    if (!hasType)
                    {
                        var typePath = partPath.Leaf("type").ToString();
                        throw BatonException.InvalidRequest($"Missing required parameter: '{typePath}'.", typePath, "missing_required_parameter");
                    }
                    part++;
                }
                return true;
            default:
                throw WrongType(message.Leaf("content").ToString(), "a string or an array of content parts");
        }
    }

    private static void ReadStreamOptions(ref Utf8JsonReader reader, ref ParsedFields request)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            request.StreamOptionsToken = TokenRange(ref reader);
            return;
        }
        Expect(ref reader, JsonTokenType.StartObject, "stream_options", "an object");
        var start = (int)reader.TokenStartIndex;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var isIncludeUsage = reader.ValueTextEquals("include_usage"u8);
            reader.Read();
            if (isIncludeUsage)
            {
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                {
                    throw WrongType("stream_options.include_usage", "a boolean");
                }
                request.IncludeUsage = reader.TokenType == JsonTokenType.True;
            }
            else
            {
                reader.Skip();
            }
        }
        request.StreamOptionsToken = start..((int)reader.TokenStartIndex + 1);
    }

    private static bool ReadNumberInRange(ref Utf8JsonReader reader, string name, double min, double max)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw WrongType(name, "a number");
        }
        var value = reader.GetDouble();
        if (value < min || value > max)
        {
            throw BatonException.InvalidRequest(
                $"Invalid '{name}': {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} is out of range; expected a value from {min} to {max}.",
                name, "invalid_value");
        }
        return true;
    }

    private static int? ReadPositiveInteger(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value))
        {
            throw WrongType(name, "an integer");
        }
        if (value < 1)
        {
            throw BatonException.InvalidRequest($"Invalid '{name}': {value} is too small; expected at least 1.", name, "invalid_value");
        }
        return value;
    }

    private static void ReadStop(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is JsonTokenType.Null or JsonTokenType.String)
        {
            return;
        }
        Expect(ref reader, JsonTokenType.StartArray, "stop", "a string or an array of strings");
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            Expect(ref reader, JsonTokenType.String, new ParamPath("stop", index), "a string");
            index++;
        }
    }

    private static bool ReadTools(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }
        Expect(ref reader, JsonTokenType.StartArray, "tools", "an array");
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var path = new ParamPath("tools", index);
            Expect(ref reader, JsonTokenType.StartObject, path, "an object");
            var hasFunctionName = false;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var isFunction = reader.ValueTextEquals("function"u8);
                reader.Read();
                if (isFunction)
                {
                    Expect(ref reader, JsonTokenType.StartObject, path.Leaf("function"), "an object");
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var isName = reader.ValueTextEquals("name"u8);
                        reader.Read();
                        if (isName)
                        {
                            Expect(ref reader, JsonTokenType.String, path.Leaf("function.name"), "a string");
                            hasFunctionName = reader.ValueSpan.Length > 0;
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
            if (!hasFunctionName)
            {
                throw BatonException.InvalidRequest(
                    $"Missing required parameter: '{path}.function.name'.", path + ".function.name", "missing_required_parameter");
            }
            index++;
        }
        return index > 0;
    }

    private static void ReadResponseFormat(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }
        Expect(ref reader, JsonTokenType.StartObject, "response_format", "an object");
        var hasType = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var isType = reader.ValueTextEquals("type"u8);
            reader.Read();
            if (isType)
            {
                Expect(ref reader, JsonTokenType.String, "response_format.type", "a string");
                var type = reader.GetString();
                if (type is not ("text" or "json_object" or "json_schema"))
                {
                    throw BatonException.InvalidRequest(
                        $"Invalid value for 'response_format.type': '{type}'. Supported values are: 'text', 'json_object' and 'json_schema'.",
                        "response_format.type", "invalid_value");
                }
                hasType = true;
            }
            else
            {
                reader.Skip();
            }
        }
        if (!hasType)
        {
            throw BatonException.InvalidRequest("Missing required parameter: 'response_format.type'.", "response_format.type", "missing_required_parameter");
        }
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, ref ParsedFields request)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }
        Expect(ref reader, JsonTokenType.StartObject, "metadata", "an object");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var isTask = reader.ValueTextEquals("task"u8);
            var isSession = !isTask && reader.ValueTextEquals("session_id"u8);
            var isFallbacks = !isTask && !isSession && reader.ValueTextEquals("fallbacks"u8);
            var isCacheDisabled = reader.ValueTextEquals("cache_disabled"u8);
            var isCacheTtl = reader.ValueTextEquals("cache_ttl"u8);
            var isTags = reader.ValueTextEquals("tags"u8);
            var isContext = reader.ValueTextEquals("context"u8);
            var isUserId = reader.ValueTextEquals("user_id"u8);
            var isProject = reader.ValueTextEquals("project_id"u8);
            var keyReader = reader;
            reader.Read();
            if (isContext)
            {
                // Rendered into the prompt once the whole body is read (see PromptContext).
                request.HasContext = reader.TokenType != JsonTokenType.Null;
                reader.Skip();
                continue;
            }
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                throw WrongType($"metadata.{keyReader.GetString()}", "a string, number or boolean");
            }
            if (isTask && reader.TokenType == JsonTokenType.String)
            {
                request.Task = reader.GetString();
            }
            else if (isSession && reader.TokenType == JsonTokenType.String)
            {
                request.SessionId = reader.GetString();
            }
            else if (isFallbacks && reader.TokenType == JsonTokenType.String)
            {
                request.Fallbacks = reader.GetString();
            }
            else if (isCacheDisabled)
            {
                request.CacheDisabled = reader.TokenType == JsonTokenType.True ||
                    (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("true"u8));
            }
            else if (isCacheTtl)
            {
                request.CacheTtlSeconds = ReadSeconds(ref reader, "metadata.cache_ttl");
            }
            else if (isTags && reader.TokenType == JsonTokenType.String)
            {
                request.Tags = reader.GetString();
            }
            else if (isUserId && reader.TokenType == JsonTokenType.String)
            {
                request.UserId = reader.GetString();
            }
            else if (isProject && reader.TokenType == JsonTokenType.String)
            {
                request.ProjectId = reader.GetString();
            }
        }
    }

    /// <summary>Seconds given as a number or a numeric string (OpenAI's metadata values are strings).</summary>
    private static double ReadSeconds(ref Utf8JsonReader reader, string param)
    {
        var seconds = 0d;
        var valid = reader.TokenType switch
        {
            JsonTokenType.Number => reader.TryGetDouble(out seconds),
            JsonTokenType.String => double.TryParse(reader.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out seconds),
            _ => false,
        };
        if (!valid || !CacheDirectives.IsValidTtl(seconds))
        {
            throw BatonException.InvalidRequest(
                $"Invalid value for '{param}': expected a number of seconds greater than 0 and at most {CacheDirectives.MaxTtlSeconds}.", param, "invalid_value");
        }
        return seconds;
    }

    private static Range TokenRange(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        var length = reader.TokenType == JsonTokenType.String ? reader.ValueSpan.Length + 2 : reader.ValueSpan.Length;
        return start..(start + length);
    }

    private static (byte[] Utf8, string Name)[] Utf8Names(params string[] names) =>
        [.. names.Select(name => (System.Text.Encoding.UTF8.GetBytes(name), name))];

    /// <summary>The constant for the current property name or string value when it is one of <paramref name="names"/>; null otherwise.</summary>
    private static string? KnownName(ref Utf8JsonReader reader, (byte[] Utf8, string Name)[] names)
    {
        foreach (var (utf8, name) in names)
        {
            if (reader.ValueTextEquals(utf8))
            {
                return name;
            }
        }
        return null;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, in ParamPath param, string expected)
    {
        if (reader.TokenType != type)
        {
            throw WrongType(param.ToString(), expected);
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string param, string expected)
    {
        if (reader.TokenType != type)
        {
            throw WrongType(param, expected);
        }
    }

    private static BatonException WrongType(string param, string expected) =>
        BatonException.InvalidRequest($"Invalid type for '{param}': expected {expected}.", param, "invalid_type");

    /// <summary>
    /// The name of a nested parameter (<c>messages[2].content[0].type</c>), built only when an error names it,
    /// so that a valid request does not pay for strings it never shows.
    /// </summary>
    private readonly record struct ParamPath(string Root, int Index, string? PartName = null, int PartIndex = -1, string? LeafName = null)
    {
        public ParamPath Part(string name, int index) => this with { PartName = name, PartIndex = index };

        public ParamPath Leaf(string name) => this with { LeafName = name };

        public override string ToString()
        {
            var text = new System.Text.StringBuilder(Root);
            text.Append('[').Append(Index).Append(']');
            if (PartName is not null)
            {
                text.Append('.').Append(PartName).Append('[').Append(PartIndex).Append(']');
            }
            if (LeafName is not null)
            {
                text.Append('.').Append(LeafName);
            }
            return text.ToString();
        }
    }

    /// <summary>What one parse has found so far; a struct on the parser's stack, so a parse allocates only what it returns.</summary>
    private struct ParsedFields
    {
        public bool SawMessages;
        public int MessageCount;
        public int PromptCharacters;
        public bool Stream;
        public bool IncludeUsage;
        public bool HasTemperature;
        public bool HasTopP;
        public bool HasTools;
        public int? MaxTokens;
        public string? Task;
        public string? SessionId;
        public string? Fallbacks;
        public bool CacheDisabled;
        public double? CacheTtlSeconds;
        public string? User;
        public string? Tags;
        public string? UserId;
        public string? ProjectId;
        public bool HasContext;
        public Range? StreamToken;
        public Range? StreamOptionsToken;
        public int ClosingBrace;
        public int MessagesEnd;
        public Range? MessagesToken;
        public Range? ToolsToken;
        public bool PromptFieldRepeated;

        /// <summary>Keeps where a field the prompt counter reads is; a field given twice leaves the counter to read the whole body.</summary>
        public void NotePromptField(ref Range? field, Range token)
        {
            PromptFieldRepeated |= field is not null;
            field = token;
        }
    }
}
