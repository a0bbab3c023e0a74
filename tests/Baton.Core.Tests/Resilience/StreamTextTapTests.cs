using System.Text;
using Baton.Engine;

namespace Baton.Core.Tests.Resilience;

/// <summary>What a stream has delivered, as the resume logic sees it.</summary>
public sealed class StreamTextTapTests
{
    private static byte[] Chunk(string delta, string? finish = null) => Encoding.UTF8.GetBytes(
        $$"""{"id":"c","choices":[{"index":0,"delta":{{delta}},"finish_reason":{{(finish is null ? "null" : $"\"{finish}\"")}}}]}""");

    [Fact]
    public void Content_is_joined_unescaped_and_other_fields_are_ignored()
    {
        var tap = new StreamTextTap();
        tap.Observe(Chunk("""{"role":"assistant","content":""}"""));
        tap.Observe(Chunk("""{"content":"Say \"h\u00e9llo\"\n"}"""));
        tap.Observe(Chunk("""{"reasoning_content":"not part of the answer"}"""));
        tap.Observe(Chunk("""{"content":"then stop."}"""));

        Assert.Equal("Say \"héllo\"\nthen stop.", tap.Text);
        Assert.False(tap.HasToolCall);
        Assert.False(tap.HasFinished);
    }

    [Fact]
    public void Tool_calls_and_finish_reasons_are_noticed()
    {
        var tap = new StreamTextTap();
        tap.Observe(Chunk("""{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":""}}]}"""));
        tap.Observe(Chunk("{}", finish: "tool_calls"));

        Assert.True(tap.HasToolCall);
        Assert.True(tap.HasFinished);
        Assert.False(tap.HasText);
    }

    [Fact]
    public void Tool_call_arguments_and_reasoning_are_kept_apart_for_counting()
    {
        var tap = new StreamTextTap();
        tap.Observe(Chunk("""{"reasoning_content":"Think first. "}"""));
        tap.Observe(Chunk("""{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}"""));
        tap.Observe(Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}"""));
        tap.Observe(Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"""));

        Assert.Equal("Think first. get_weather{\"city\":\"Paris\"}", tap.OtherOutputText);
        Assert.False(tap.HasText);
        Assert.True(tap.HasToolCall);
    }
}
