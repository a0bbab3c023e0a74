using System.Globalization;
using Baton.Gateway.Endpoints;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>The cost and overhead headers are written without custom format strings, and read exactly as before.</summary>
public sealed class HeaderNumberFormatTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("0.000042", "0.000042")]
    [InlineData("1.50", "1.5")]
    [InlineData("12", "12")]
    [InlineData("0.0000000000004", "0")]
    [InlineData("0.0000000000005", "0.000000000001")]
    [InlineData("123456.789012345678", "123456.789012345678")]
    [InlineData("0.1234567890125", "0.123456789013")]
    public void A_cost_has_up_to_twelve_decimals_and_no_trailing_zeros(string value, string expected)
    {
        Assert.Equal(expected, ChatCompletionsEndpoint.FormatCost(decimal.Parse(value, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Costs_read_as_the_custom_format_wrote_them()
    {
        var random = new Random(7);
        for (var i = 0; i < 10_000; i++)
        {
            var cost = new decimal(random.Next(), random.Next(0, 1000), 0, false, (byte)random.Next(0, 19));
            Assert.Equal(cost.ToString("0.############", CultureInfo.InvariantCulture), ChatCompletionsEndpoint.FormatCost(cost));
        }
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(0.0004, "0")]
    [InlineData(0.25, "0.25")]
    [InlineData(1.0, "1")]
    [InlineData(3.14159, "3.142")]
    [InlineData(120.5, "120.5")]
    public void Milliseconds_have_up_to_three_decimals_and_no_trailing_zeros(double milliseconds, string expected)
    {
        Assert.Equal(expected, ChatCompletionsEndpoint.FormatMilliseconds(milliseconds));
    }
}
