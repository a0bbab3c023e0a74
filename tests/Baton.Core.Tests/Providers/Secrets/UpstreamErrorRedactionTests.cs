using System.Text;
using Baton.Providers;
using Baton.Simulation;

namespace Baton.Core.Tests.Providers.Secrets;

/// <summary>
/// Error bodies that are not JSON are cut to 500 characters for the message: a key near the cut must not leave
/// any usable part of itself in the message, whichever side of the cut it falls.
/// </summary>
public sealed class UpstreamErrorRedactionTests
{
    private const string Key = "sk-live-4f9QzX2mR7tK1wB8";

    private static string MessageFor(string body, params string[] keys)
    {
        var redactor = new SecretRedactor();
        foreach (var key in keys.Length == 0 ? [Key] : keys)
        {
            redactor.Add(key);
        }
        return UpstreamErrors.FromResponse("p", 401, Encoding.UTF8.GetBytes(body), null, redactor).Message;
    }

    public static TheoryData<int> OffsetsAroundTheCut => new(
        490,                                               // straddling character 500
        UpstreamErrors.MaxRawDetailLength - Key.Length,    // ending exactly at the cut
        UpstreamErrors.MaxRawDetailLength - Key.Length + 1,// its last character cut off
        UpstreamErrors.MaxRawDetailLength - 8,             // eight characters before the cut
        UpstreamErrors.MaxRawDetailLength - 1,             // one character before the cut
        UpstreamErrors.MaxRawDetailLength);                // just after the cut

    [Theory]
    [MemberData(nameof(OffsetsAroundTheCut))]
    public void A_key_anywhere_near_the_cut_leaves_no_fragment_of_eight_characters(int offset)
    {
        var message = MessageFor(SimulatedEcho.ErrorBody(Key, offset));

        Assert.False(SecretRedactorTests.HoldsFragment(message, Key), message);
        Assert.Contains("answered 401", message);
    }

    [Fact]
    public void A_key_that_straddles_the_cut_is_masked_before_the_cut_not_after()
    {
        var message = MessageFor(SimulatedEcho.ErrorBody(Key, 490));

        // Redacted first, the body's character 490 onwards reads "[redacted]", which the cut then shortens.
        Assert.EndsWith(SecretRedactor.Mask, message);
        Assert.DoesNotContain(Key[..10], message);
    }

    [Fact]
    public void A_keys_19_character_tail_alone_is_masked()
    {
        var tail = Key[^19..];

        var message = MessageFor(new string('.', 200) + " key ending " + tail + " was refused " + new string('.', 600));

        Assert.DoesNotContain(tail[..8], message);
        Assert.Contains("key ending " + SecretRedactor.Mask + " was refused", message);
    }

    [Fact]
    public void A_body_that_ends_with_the_keys_beginning_loses_it()
    {
        // As a body cut by the upstream, or by Baton's limit on how much of an error body it reads.
        var message = MessageFor("Unauthorized: key " + Key[..12]);

        Assert.Equal($"Provider 'p' answered 401: Unauthorized: key {SecretRedactor.Mask}", message);
    }

    [Fact]
    public void A_json_error_message_is_redacted_whole_and_not_cut()
    {
        var padding = new string('x', 700);
        var message = MessageFor($$$"""{"error":{"message":"{{{padding}}} bad key {{{Key}}} end"}}""");

        Assert.EndsWith($"bad key {SecretRedactor.Mask} end", message);
    }

    [Fact]
    public void The_detail_is_cut_to_500_characters_without_splitting_a_surrogate_pair()
    {
        var body = new string('a', UpstreamErrors.MaxRawDetailLength - 1) + "😀" + new string('b', 100);

        var message = MessageFor(body);

        var detail = message[(message.IndexOf(": ", StringComparison.Ordinal) + 2)..];
        Assert.Equal(new string('a', UpstreamErrors.MaxRawDetailLength - 1), detail);
    }

    [Fact]
    public void Every_key_known_is_removed_not_only_the_answering_providers()
    {
        const string other = "sk-ant-api03-ZZZ999yyy888";

        var message = MessageFor($"proxy saw {Key} and {other}", Key, other);

        Assert.Equal($"Provider 'p' answered 401: proxy saw {SecretRedactor.Mask} and {SecretRedactor.Mask}", message);
    }
}
