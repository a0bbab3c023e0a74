using System.Text;
using Baton.Providers.OpenAi;

namespace Baton.Core.Tests.Providers.OpenAi;

public sealed class ModelNamesTests
{
    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void A_name_seen_before_is_the_same_string()
    {
        var names = new ModelNames(maxNames: 4);

        var first = names.FromUtf8(Utf8("gpt-4o-2024-08-06"));
        var again = names.FromUtf8(Utf8("gpt-4o-2024-08-06"));

        Assert.Equal("gpt-4o-2024-08-06", first);
        Assert.Same(first, again);
        Assert.NotSame(first, names.FromUtf8(Utf8("gpt-4o-mini")));
    }

    [Theory]
    [InlineData("modèle-日本")]
    [InlineData("")]
    public void Names_are_decoded_as_utf8(string name)
    {
        Assert.Equal(name, new ModelNames(maxNames: 4).FromUtf8(Utf8(name)));
    }

    [Fact]
    public void Invalid_utf8_and_names_too_long_to_hold_decode_as_the_encoding_does()
    {
        var names = new ModelNames(maxNames: 4);
        byte[] invalid = [(byte)'m', 0xFF, 0xC3, (byte)'x'];
        var longName = new string('m', ModelNames.MaxLength + 1);

        Assert.Equal(Encoding.UTF8.GetString(invalid), names.FromUtf8(invalid));
        Assert.Equal(longName, names.FromUtf8(Utf8(longName)));
        Assert.NotSame(names.FromUtf8(Utf8(longName)), names.FromUtf8(Utf8(longName)));
    }

    [Fact]
    public void A_full_table_holds_no_more_names_but_still_decodes_them()
    {
        var names = new ModelNames(maxNames: 2);
        var held = names.FromUtf8(Utf8("one"));
        names.FromUtf8(Utf8("two"));

        var third = names.FromUtf8(Utf8("three"));

        Assert.Equal("three", third);
        Assert.NotSame(third, names.FromUtf8(Utf8("three")));
        Assert.Same(held, names.FromUtf8(Utf8("one")));
    }
}
