using System.Text;
using Baton.Core.Tests.TestSupport;
using Baton.Providers;

namespace Baton.Core.Tests.Providers;

public sealed class NdjsonLineReaderTests
{
    private static async Task<List<string>> ReadAsync(string text, int bytesPerRead, int maxLineBytes = NdjsonLineReader.DefaultMaxLineBytes)
    {
        using var reader = new NdjsonLineReader(new TrickleStream(Encoding.UTF8.GetBytes(text), bytesPerRead), maxLineBytes);
        var lines = new List<string>();
        await foreach (var line in reader.ReadLinesAsync(CancellationToken.None))
        {
            lines.Add(Encoding.UTF8.GetString(line.Span));
        }
        return lines;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Lines_split_across_reads_are_put_back_together(int bytesPerRead)
    {
        var lines = await ReadAsync("{\"a\":1}\n{\"b\":\"é\"}\n{\"c\":3}\n", bytesPerRead);
        Assert.Equal(["{\"a\":1}", "{\"b\":\"é\"}", "{\"c\":3}"], lines);
    }

    [Fact]
    public async Task Crlf_endings_and_blank_lines_are_dropped()
    {
        var lines = await ReadAsync("{\"a\":1}\r\n\r\n{\"b\":2}\r\n", 5);
        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], lines);
    }

    [Fact]
    public async Task A_last_line_without_a_newline_is_still_read()
    {
        var lines = await ReadAsync("{\"a\":1}\n{\"b\":2}", 4);
        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], lines);
    }

    [Fact]
    public async Task A_line_longer_than_the_first_buffer_grows_it()
    {
        var large = "{\"text\":\"" + new string('x', 20_000) + "\"}";
        var lines = await ReadAsync(large + "\n{\"a\":1}\n", 1000);
        Assert.Equal([large, "{\"a\":1}"], lines);
    }

    [Fact]
    public async Task A_line_over_the_limit_is_refused()
    {
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(new string('x', 200) + "\n", 16, maxLineBytes: 100));
    }

    [Fact]
    public async Task An_empty_body_has_no_lines()
    {
        Assert.Empty(await ReadAsync("", 10));
    }
}
