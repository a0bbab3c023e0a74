using System.Text;
using Baton.Providers;

namespace Baton.Core.Tests.Providers.Secrets;

/// <summary>Keys and fragments of keys removed from error texts, and keys removed from answers' JSON.</summary>
public sealed class SecretRedactorTests
{
    private const string Key = "sk-proj-Zq81xVw3Lr5Tn0Bc7Ye2";
    private const string Other = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY";

    private static SecretRedactor Redactor(params string[] keys)
    {
        var redactor = new SecretRedactor();
        foreach (var key in keys)
        {
            redactor.Add(key);
        }
        return redactor;
    }

    /// <summary>True when <paramref name="text"/> holds a run of <paramref name="length"/> or more characters of <paramref name="key"/>.</summary>
    internal static bool HoldsFragment(string text, string key, int length = SecretRedactor.MinimumFragmentLength)
    {
        for (var i = 0; i + length <= key.Length; i++)
        {
            if (text.Contains(key.Substring(i, length), StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    [Fact]
    public void A_whole_key_is_masked_once_wherever_it_is()
    {
        var text = Redactor(Key, Other).Redact($"bad key {Key}; also {Other} and again {Key}.");

        Assert.Equal($"bad key {SecretRedactor.Mask}; also {SecretRedactor.Mask} and again {SecretRedactor.Mask}.", text);
    }

    [Theory]
    [InlineData(0, 8)]     // the key's first eight characters, as an echo cut right after them leaves
    [InlineData(0, 27)]    // all but the last character
    [InlineData(9, 19)]    // the key's 19-character tail alone
    [InlineData(20, 8)]    // its last eight characters
    [InlineData(5, 13)]    // a piece of its middle
    public void A_run_of_eight_or_more_characters_of_a_key_is_masked(int start, int length)
    {
        var fragment = Key.Substring(start, length);

        var text = Redactor(Key).Redact($"Incorrect API key provided: {fragment}. See the docs.");

        Assert.Equal($"Incorrect API key provided: {SecretRedactor.Mask}. See the docs.", text);
    }

    [Fact]
    public void Runs_shorter_than_eight_characters_stay_as_they_are()
    {
        // The first seven characters ("sk-proj") are what every key of that kind begins with; the last four are
        // what providers themselves print to identify a key.
        var text = $"Keys look like {Key[..7]}... and this one ends in {Key[^4..]}.";

        Assert.Equal(text, Redactor(Key).Redact(text));
    }

    [Fact]
    public void A_key_glued_to_a_fragment_of_itself_leaves_nothing_of_either()
    {
        var text = Redactor(Key).Redact("x" + Key[^12..] + Key + Key[..9] + "y");

        Assert.False(HoldsFragment(text, Key));
        Assert.StartsWith("x", text);
        Assert.EndsWith("y", text);
    }

    [Fact]
    public void Values_shorter_than_eight_characters_are_not_taken_as_keys()
    {
        var redactor = Redactor("secret", "");

        Assert.True(redactor.IsEmpty);
        Assert.Equal("a secret word", redactor.Redact("a secret word"));
    }

    [Fact]
    public void An_answer_without_keys_is_left_as_it_is()
    {
        var json = Encoding.UTF8.GetBytes("""{"choices":[{"message":{"content":"The sk-proj prefix marks a project key."}}]}""");

        Assert.Null(Redactor(Key).Scrub(json));
    }

    [Fact]
    public void Every_key_in_an_answer_is_masked_in_place_and_the_json_stays_valid()
    {
        var json = Encoding.UTF8.GetBytes($$$"""{"id":"{{{Key}}}","choices":[{"message":{"content":"I got {{{Key}}} and {{{Other}}}."}}]}""");

        var scrubbed = Encoding.UTF8.GetString(Redactor(Key, Other).Scrub(json)!);

        Assert.Equal($$$"""{"id":"{{{SecretRedactor.Mask}}}","choices":[{"message":{"content":"I got {{{SecretRedactor.Mask}}} and {{{SecretRedactor.Mask}}}."}}]}""", scrubbed);
        using var _ = System.Text.Json.JsonDocument.Parse(scrubbed);
    }

    [Fact]
    public void A_keys_beginning_that_ends_a_string_is_an_echo_cut_short_and_is_masked()
    {
        // An answer stopped by max_tokens in the middle of the key.
        var json = Encoding.UTF8.GetBytes($$"""{"choices":[{"message":{"content":"Your key is {{Key[..15]}}"},"finish_reason":"length"}]}""");

        var scrubbed = Encoding.UTF8.GetString(Redactor(Key).Scrub(json)!);

        Assert.Contains($"Your key is {SecretRedactor.Mask}\"", scrubbed);
        Assert.False(HoldsFragment(scrubbed, Key));
    }

    [Fact]
    public void A_keys_beginning_inside_a_text_is_left_to_the_answer()
    {
        // Not followed by the rest of the key and not at a cut: an answer talking about key formats.
        var json = Encoding.UTF8.GetBytes($$"""{"content":"{{Key[..10]}} is how keys of this project start."}""");

        Assert.Null(Redactor(Key).Scrub(json));
    }

    [Fact]
    public void A_key_with_characters_json_escapes_is_masked_in_its_escaped_form()
    {
        const string key = "k+y<with>&odd/chars-0123456789";
        var escaped = System.Text.Json.JsonSerializer.Serialize(key);
        var json = Encoding.UTF8.GetBytes($$"""{"content":{{escaped}}}""");
        Assert.Contains("\\u002B", escaped);

        var scrubbed = Encoding.UTF8.GetString(Redactor(key).Scrub(json)!);

        Assert.Equal($$"""{"content":"{{SecretRedactor.Mask}}"}""", scrubbed);
    }
}
