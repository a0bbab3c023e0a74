using System.Text;
using Baton.Caching;

namespace Baton.Core.Tests.Caching;

/// <summary>Requests that mean the same share a key; any semantic difference misses.</summary>
public sealed class CacheKeyTests
{
    private const string Base =
        """{"model":"m","temperature":0.7,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50}""";

    private static string Key(string body, string model = "M") => CacheKey.Compute(Encoding.UTF8.GetBytes(body), model);

    [Theory]
    [InlineData("""{ "max_tokens" : 50, "messages" : [ {"content":"Be brief.","role":"system"}, {"content":"Hi","role":"user"} ], "temperature" : 0.70, "model" : "m" }""")]
    [InlineData("""{"model":"other-name-for-m","temperature":0.7,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50,"stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("""{"model":"m","temperature":7e-1,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50,"metadata":{"session_id":"s1"},"user":"u1"}""")]
    [InlineData("""{"model":"m","\u0074emperature":0.7,"messages":[{"role":"system","c\u006fntent":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50,"\u006detadata":{"a":1}}""")]
    public void Key_order_whitespace_number_spelling_streaming_and_metadata_do_not_matter(string body) =>
        Assert.Equal(Key(Base), Key(body));

    [Theory]
    [InlineData("temperature\":0.7", "temperature\":0.8")]
    [InlineData("Be brief.", "Be thorough.")]
    [InlineData("\"Hi\"", "\"Hi!\"")]
    [InlineData("\"max_tokens\":50", "\"max_tokens\":51")]
    [InlineData("\"max_tokens\":50", "\"max_tokens\":50,\"seed\":1")]
    [InlineData("\"max_tokens\":50", "\"max_tokens\":50,\"stop\":[\"\\n\"]")]
    [InlineData("\"max_tokens\":50", "\"max_tokens\":50,\"top_p\":0.9")]
    [InlineData("\"max_tokens\":50", "\"max_tokens\":50,\"response_format\":{\"type\":\"json_object\"}")]
    [InlineData("\"max_tokens\":50", "\"max_tokens\":50,\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}]")]
    public void Any_semantic_difference_misses(string from, string to) =>
        Assert.NotEqual(Key(Base), Key(Base.Replace(from, to, StringComparison.Ordinal)));

    [Fact]
    public void The_resolved_model_is_part_of_the_key_case_insensitively()
    {
        Assert.Equal(Key(Base, "Scout"), Key(Base, "scout"));
        Assert.NotEqual(Key(Base, "scout"), Key(Base, "mistral"));
    }

    [Fact]
    public void Message_order_matters()
    {
        var swapped = """{"model":"m","temperature":0.7,"messages":[{"role":"user","content":"Hi"},{"role":"system","content":"Be brief."}],"max_tokens":50}""";
        Assert.NotEqual(Key(Base), Key(swapped));
    }

    [Fact]
    public void A_key_does_not_depend_on_the_requests_keyed_before_it()
    {
        var small = Key(Base);
        var large = Base.Replace("Hi", new string('x', 100_000), StringComparison.Ordinal);
        var largeKey = Key(large);

        // The canonical form's buffer is reused from call to call (and a large one let go): nothing carries over.
        Assert.Equal(small, Key(Base));
        Assert.Equal(largeKey, Key(large));
        Assert.NotEqual(small, largeKey);
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => Key("""{"model":"m","messages":[""" ));
        Assert.Equal(small, Key(Base));
    }
}
