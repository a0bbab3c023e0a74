using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Baton.Gateway.Tests.Security;

/// <summary>
/// Hostile input, as an attacker or an unlucky client sends it: every request gets the 4xx it deserves in OpenAI's
/// error shape, naming the parameter at fault where there is one, and none gets a 5xx.
/// </summary>
public sealed class HostileInputTests(DefaultSecurityGateway fixture) : IClassFixture<DefaultSecurityGateway>
{
    private const string Json = "application/json";
    private const string Chat = "/v1/chat/completions";
    private const string Message = """[{"role":"user","content":"hi"}]""";

    /// <summary>A request and the answer it must get.</summary>
    /// <param name="Body">The body; each <c>#</c> becomes the bytes FF FE, which no UTF-8 text holds.</param>
    /// <param name="Host">The Host header, or null for the gateway's own address.</param>
    public sealed record HostileRequest(
        string Method, string Path, string? Body, string? ContentType, int Status, string? Param, string Code,
        (string Name, string Value)[]? Headers = null, string? Host = null);

    private static readonly Dictionary<string, HostileRequest> Cases = new()
    {
        // 3. Bad input deep inside an otherwise valid request.
        ["chat: invalid UTF-8 in a message"] = new("POST", Chat, """{"model":"scout","messages":[{"role":"user","content":"a#b"}]}""", Json, 400, "messages[0].content", "invalid_encoding"),
        ["chat: invalid UTF-8 in the model"] = new("POST", Chat, """{"model":"scout#","messages":[{"role":"user","content":"hi"}]}""", Json, 400, "model", "invalid_encoding"),
        ["chat: invalid UTF-8 in a content part"] = new("POST", Chat, """{"model":"scout","messages":[{"role":"user","content":[{"type":"text","text":"#"}]}]}""", Json, 400, "messages[0].content[0].text", "invalid_encoding"),
        ["chat: invalid UTF-8 in a metadata key"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}},"metadata":{"#":"x"}}""", Json, 400, "metadata", "invalid_encoding"),
        ["chat: lone high surrogate"] = new("POST", Chat, """{"model":"scout","messages":[{"role":"user","content":"a\ud800b"}]}""", Json, 400, "messages[0].content", "invalid_encoding"),
        ["chat: lone low surrogate in user"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}},"user":"\udc00"}""", Json, 400, "user", "invalid_encoding"),
        ["chat: lone surrogate, streamed"] = new("POST", Chat, """{"model":"scout","stream":true,"messages":[{"role":"user","content":"\ud800"}]}""", Json, 400, "messages[0].content", "invalid_encoding"),
        ["chat: cache_ttl NaN"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}},"metadata":{"cache_ttl":"NaN"}}""", Json, 400, "metadata.cache_ttl", "invalid_value"),
        ["chat: cache_ttl 1e300"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}},"metadata":{"cache_ttl":1e300}}""", Json, 400, "metadata.cache_ttl", "invalid_value"),
        ["chat: cache_ttl 5e11"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}},"metadata":{"cache_ttl":"5e11"}}""", Json, 400, "metadata.cache_ttl", "invalid_value"),
        ["chat: cache_ttl negative"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}},"metadata":{"cache_ttl":-60}}""", Json, 400, "metadata.cache_ttl", "invalid_value"),
        ["chat: cache_ttl 5e11, streamed"] = new("POST", Chat, $$$"""{"model":"scout","stream":true,"messages":{{{Message}}},"metadata":{"cache_ttl":5e11}}""", Json, 400, "metadata.cache_ttl", "invalid_value"),
        ["chat: X-Baton-Cache-TTL NaN"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}}}""", Json, 400, "X-Baton-Cache-TTL", "invalid_value", [("X-Baton-Cache-TTL", "NaN")]),
        ["chat: X-Baton-Cache-TTL 1e300"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}}}""", Json, 400, "X-Baton-Cache-TTL", "invalid_value", [("X-Baton-Cache-TTL", "1e300")]),
        ["chat: X-Baton-Cache-TTL negative"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}}}""", Json, 400, "X-Baton-Cache-TTL", "invalid_value", [("X-Baton-Cache-TTL", "-1")]),
        ["chat: X-Baton-Cache-TTL 5e11, streamed"] = new("POST", Chat, $$$"""{"model":"scout","stream":true,"messages":{{{Message}}}}""", Json, 400, "X-Baton-Cache-TTL", "invalid_value", [("X-Baton-Cache-TTL", "5e11")]),
        ["batch: invalid UTF-8"] = new("POST", "/batch", """{"requests":[{"provider":"sim#","model":"scout","messages":[{"role":"user","content":"a"}]}]}""", Json, 400, "requests[0].provider", "invalid_encoding"),
        ["batch: lone surrogate"] = new("POST", "/batch", """{"requests":[{"provider":"sim","model":"scout","messages":[{"role":"user","content":"\ud800"}]}]}""", Json, 400, "requests[0].messages[0].content", "invalid_encoding"),
        ["pipeline: invalid UTF-8 in the input"] = new("POST", "/v1/pipelines/project-analysis/runs", """{"input":{"project":{"name":"#"}}}""", Json, 400, "input.project.name", "invalid_encoding"),
        ["pipeline: lone surrogate in the input"] = new("POST", "/v1/pipelines/project-analysis/runs", """{"input":{"\udbff":1}}""", Json, 400, "input", "invalid_encoding"),
        ["batches: lone surrogate in input_file_id"] = new("POST", "/v1/batches", """{"input_file_id":"\ud800","endpoint":"/v1/chat/completions","completion_window":"24h"}""", Json, 400, "input_file_id", "invalid_encoding"),
        ["costs: since past the year 9999"] = new("GET", "/v1/costs?since=999999999999", null, null, 400, "since", "invalid_value"),
        ["costs: until past the year 9999"] = new("GET", "/v1/costs?until=253402300800", null, null, 400, "until", "invalid_value"),
        ["files: wrong multipart boundary"] = new("POST", "/v1/files", "--OTHER\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--OTHER--\r\n", "multipart/form-data; boundary=EXPECTED", 400, null, "invalid_multipart"),
        ["files: truncated multipart body"] = new("POST", "/v1/files", "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n{\"custom_id\"", "multipart/form-data; boundary=B", 400, null, "invalid_multipart"),
        ["files: multipart without a boundary"] = new("POST", "/v1/files", "purpose=batch", "multipart/form-data", 415, "Content-Type", "unsupported_media_type"),

        // 4. Errors the server and routing answer: they carry a body too.
        ["unknown route"] = new("GET", "/v1/nope", null, null, 404, null, "unknown_url"),
        ["unknown route, POST"] = new("POST", "/admin/../v2/chat", "{}", Json, 404, null, "unknown_url"),
        ["wrong method"] = new("PUT", "/v1/models", "{}", Json, 405, null, "method_not_allowed"),
        ["wrong method on chat"] = new("GET", Chat, null, null, 405, null, "method_not_allowed"),
        ["body over the limit"] = new("POST", Chat, $$$"""{"model":"scout","messages":[{"role":"user","content":"{{{new string('x', 70_000)}}}"}]}""", Json, 413, null, "request_too_large"),

        // 5. What a web page can send without a CORS preflight, and DNS rebinding.
        ["chat as text/plain"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}}}""", "text/plain", 415, "Content-Type", "unsupported_media_type"),
        ["chat as a form"] = new("POST", Chat, "model=scout", "application/x-www-form-urlencoded", 415, "Content-Type", "unsupported_media_type"),
        ["chat as multipart"] = new("POST", Chat, "--B--\r\n", "multipart/form-data; boundary=B", 415, "Content-Type", "unsupported_media_type"),
        ["chat without a content type"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}}}""", null, 415, "Content-Type", "unsupported_media_type"),
        ["chat as UTF-16 JSON"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}}}""", "application/json; charset=utf-16", 415, "Content-Type", "unsupported_media_type"),
        ["batch as text/plain"] = new("POST", "/batch", """{"requests":[]}""", "text/plain", 415, "Content-Type", "unsupported_media_type"),
        ["pipeline run as text/plain"] = new("POST", "/v1/pipelines/project-analysis/runs", """{"input":{}}""", "text/plain;charset=UTF-8", 415, "Content-Type", "unsupported_media_type"),
        ["batches as a form"] = new("POST", "/v1/batches", "input_file_id=file-1", "application/x-www-form-urlencoded", 415, "Content-Type", "unsupported_media_type"),
        ["files as JSON"] = new("POST", "/v1/files", "{}", Json, 415, "Content-Type", "unsupported_media_type"),
        ["files as a URL-encoded form"] = new("POST", "/v1/files", "purpose=batch", "application/x-www-form-urlencoded", 415, "Content-Type", "unsupported_media_type"),
        ["DNS rebinding: another host"] = new("GET", "/v1/models", null, null, 421, "Host", "host_not_allowed", Host: "evil.example"),
        ["DNS rebinding: another host with a port"] = new("POST", Chat, $$$"""{"model":"scout","messages":{{{Message}}}}""", Json, 421, "Host", "host_not_allowed", Host: "evil.example:8080"),
        ["DNS rebinding: a name ending in localhost"] = new("GET", "/v1/costs", null, null, 421, "Host", "host_not_allowed", Host: "localhost.evil.example"),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Hostile_input_gets_a_4xx_in_openais_error_shape(string name)
    {
        var c = Cases[name];
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(WithInvalidUtf8(c.Body));
            request.Content.Headers.ContentType = null;
            if (c.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
            }
        }
        foreach (var (header, value) in c.Headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }
        if (c.Host is not null)
        {
            request.Headers.Host = c.Host;
        }

        using var response = await fixture.Gateway.Http.SendAsync(request);

        var status = (int)response.StatusCode;
        Assert.True(status == c.Status, $"{name}: expected {c.Status}, got {status}: {await response.Content.ReadAsStringAsync()}");
        // Never a stream that turns into an error: the refusal comes before any byte of an answer.
        Assert.Equal(Json, response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(c.Code, error.GetProperty("code").GetString());
        if (c.Param is null)
        {
            Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        }
        else
        {
            Assert.Equal(c.Param, error.GetProperty("param").GetString());
        }
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON;charset=\"UTF-8\"")]
    public async Task Json_with_or_without_a_utf8_charset_is_served(string contentType)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$$"""{"model":"scout","messages":{{{Message}}}}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await fixture.Gateway.Http.PostAsync(Chat, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Escaped_surrogate_pairs_and_escaped_backslashes_are_not_mistaken_for_lone_surrogates()
    {
        using var content = new StringContent("""{"model":"scout","messages":[{"role":"user","content":"\ud83d\ude00 and \\ud800"}]}""", Encoding.UTF8, Json);

        using var response = await fixture.Gateway.Http.PostAsync(Chat, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// What Kestrel answers itself, before any of the gateway's code runs: a status line and no body (documented in
    /// docs/security.md). Still a 4xx, and the connection is closed.
    /// </summary>
    [Theory]
    [InlineData("a request line longer than Kestrel's limit", 414)]
    [InlineData("headers larger than Kestrel's limit", 431)]
    [InlineData("a malformed request line", 400)]
    [InlineData("HTTP/1.1 without a Host header", 400)]
    public async Task Connection_level_errors_are_kestrels_own_4xx(string what, int status)
    {
        var request = what switch
        {
            "a request line longer than Kestrel's limit" => $"GET /{new string('a', 9000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "headers larger than Kestrel's limit" => $"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {new string('b', 33_000)}\r\n\r\n",
            "a malformed request line" => "GET\t/health HTTP/9\r\nHost: 127.0.0.1\r\n\r\n",
            _ => "GET /health HTTP/1.1\r\n\r\n",
        };
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, fixture.Gateway.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync();

        Assert.StartsWith($"HTTP/1.1 {status} ", statusLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chunk_size_that_overflows_is_a_400_in_openais_error_shape()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, fixture.Gateway.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n" +
            "Connection: close\r\n\r\nffffffffffffffff\r\nx\r\n"));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var response = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        Assert.Equal("invalid_body", body.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private static byte[] WithInvalidUtf8(string body) =>
        [.. Encoding.UTF8.GetBytes(body).SelectMany(b => b == (byte)'#' ? new byte[] { 0xFF, 0xFE } : [b])];
}
