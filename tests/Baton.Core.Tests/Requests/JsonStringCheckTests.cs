using System.Text;
using Baton.Errors;
using Baton.Requests;

namespace Baton.Core.Tests.Requests;

public sealed class JsonStringCheckTests
{
    private static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    /// <summary>The JSON text with the bytes <c>FF FE</c> in place of each <c>#</c>: invalid UTF-8 a string cannot hold.</summary>
    private static byte[] WithInvalidUtf8(string json) =>
        [.. Utf8(json).SelectMany(b => b == (byte)'#' ? new byte[] { 0xFF, 0xFE } : [b])];

    [Theory]
    [InlineData("""{"a":"plain ascii","b":["é", "日本"]}""")]
    [InlineData("""{"emoji":"\ud83d\ude00 and \uD83D\uDE00"}""")]
    [InlineData("""{"not an escape":"\\ud800 is text after an escaped backslash"}""")]
    [InlineData("""{"bmp":"\u00e9\u2603"}""")]
    public void Valid_strings_pass(string json) => JsonStringCheck.Validate(Utf8(json));

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a\ud800b"}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a\udc00b"}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"ok"},{"role":"user","content":[{"type":"text","text":"\ud83d"}]}]}""", "messages[1].content[0].text")]
    [InlineData("""{"user":"x\\\ud800"}""", "user")]
    [InlineData("""["a","\ud800"]""", "[1]")]
    [InlineData("""{"metadata":{"\ud800":"x"}}""", "metadata")]
    public void A_lone_surrogate_escape_is_refused_with_its_path(string json, string param)
    {
        var error = Assert.Throws<BatonException>(() => JsonStringCheck.Validate(Utf8(json)));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal(param, error.Param);
        Assert.Equal(JsonStringCheck.InvalidEncoding, error.Code);
    }

    [Theory]
    [InlineData("""{"model":"m#","messages":[]}""", null, "model")]
    [InlineData("""{"requests":[{"provider":"p"},{"provider":"p#"}]}""", null, "requests[1].provider")]
    [InlineData("""{"project":{"name":"#"}}""", "input", "input.project.name")]
    [InlineData("""{"#":1}""", null, null)]
    public void Invalid_utf8_in_a_string_is_refused_with_its_path(string json, string? root, string? param)
    {
        var error = Assert.Throws<BatonException>(() => JsonStringCheck.Validate(WithInvalidUtf8(json), root));
        Assert.Equal(param, error.Param);
        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_bytes_outside_strings_are_left_to_the_json_parser()
    {
        // Not a string problem: the parser that follows reports the malformed JSON.
        JsonStringCheck.Validate(WithInvalidUtf8("""{"a":1 # }"""));
        var error = Assert.Throws<BatonException>(() => ChatRequestParser.Parse(WithInvalidUtf8("""{"model":"m" # }""")));
        Assert.Equal("invalid_json", error.Code);
    }

    [Theory]
    [InlineData("\"\\ud800\"", true)]
    [InlineData("\"\\ud800\\u0041\"", true)]
    [InlineData("\"\\ud800\\udc00\"", false)]
    [InlineData("\"\\\\ud800\"", false)]
    [InlineData("\"\\\\\\ud800\"", true)]
    [InlineData("\"\\udbff", true)]
    public void Surrogate_escapes_are_told_apart_from_escaped_backslashes(string json, bool lone) =>
        Assert.Equal(lone, JsonStringCheck.HasLoneSurrogateEscape(Utf8(json)));

    [Theory]
    [InlineData("\"NaN\"")]
    [InlineData("1e300")]
    [InlineData("5e11")]
    [InlineData("-5")]
    [InlineData("\"-0\"")]
    [InlineData("0")]
    public void A_cache_ttl_out_of_range_names_its_parameter(string ttl)
    {
        var error = Assert.Throws<BatonException>(() => ChatRequestParser.Parse(Utf8(
            $$"""{"model":"m","metadata":{"cache_ttl":{{ttl}}},"messages":[{"role":"user","content":"hi"}]}""")));
        Assert.Equal("metadata.cache_ttl", error.Param);
        Assert.Equal("invalid_value", error.Code);
    }

    [Fact]
    public void The_longest_cache_ttl_is_accepted_and_max_age_beyond_it_is_read_as_it()
    {
        var request = ChatRequestParser.Parse(Utf8("""{"model":"m","metadata":{"cache_ttl":"2147483647"},"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(TimeSpan.FromSeconds(int.MaxValue), request.Cache.Ttl);
        Assert.Equal(TimeSpan.FromSeconds(int.MaxValue), CacheDirectives.Default.WithCacheControl("max-age=99999999999999").Ttl);
        Assert.Null(CacheDirectives.Default.WithCacheControl("max-age=-5").Ttl);
    }
}
