using Baton.Simulation;

namespace Baton.Core.Tests.Simulation;

public sealed class SimulationFaultTests
{
    [Theory]
    [InlineData("429", SimulationFaultKind.RateLimited, 1)]
    [InlineData("429:30", SimulationFaultKind.RateLimited, 30)]
    [InlineData("500", SimulationFaultKind.ServerError, 500)]
    [InlineData("529", SimulationFaultKind.ServerError, 529)]
    [InlineData("401", SimulationFaultKind.Unauthorized, 401)]
    [InlineData("HANG", SimulationFaultKind.Hang, 0)]
    [InlineData("reset", SimulationFaultKind.Reset, 0)]
    [InlineData("cut:4", SimulationFaultKind.CutStream, 4)]
    [InlineData("malformed", SimulationFaultKind.MalformedJson, 0)]
    [InlineData("echo-key", SimulationFaultKind.EchoKey, 0)]
    [InlineData("echo-key-error", SimulationFaultKind.EchoKeyInError, SimulatedEcho.DefaultErrorOffset)]
    [InlineData("echo-key-error:481", SimulationFaultKind.EchoKeyInError, 481)]
    public void Parses_every_documented_form(string text, SimulationFaultKind kind, int value)
    {
        Assert.True(SimulationFault.TryParse(text, out var fault));
        Assert.Equal(new SimulationFault(kind, value), fault);
    }

    [Theory]
    [InlineData("")]
    [InlineData("404")]
    [InlineData("explode")]
    public void Ignores_what_it_does_not_know(string text) => Assert.False(SimulationFault.TryParse(text, out _));

    [Fact]
    public void A_model_suffix_names_the_fault_and_an_at_sign_elsewhere_is_kept()
    {
        Assert.Equal("baton-sim-1", SimulationFault.StripFromModel("baton-sim-1@cut:2", out var fault));
        Assert.Equal(SimulationFaultKind.CutStream, fault.Kind);
        Assert.Equal("team@work-model", SimulationFault.StripFromModel("team@work-model", out var none));
        Assert.Equal(SimulationFaultKind.None, none.Kind);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(490)]
    [InlineData(2000)]
    public void The_echoing_error_body_has_the_key_at_the_asked_character(int offset)
    {
        const string key = "sk-echo-0123456789abcdef";

        var body = SimulatedEcho.ErrorBody(key, offset);

        Assert.Equal(offset, body.IndexOf(key, StringComparison.Ordinal));
        Assert.True(body.Length >= Math.Max(SimulatedEcho.ErrorBodyLength, offset + key.Length));
        Assert.DoesNotContain('{', body);
    }

    [Fact]
    public void The_echoing_answer_spells_the_key_three_characters_a_piece_and_counts_them()
    {
        const string key = "sk-echo-0123456789abcdef";
        var prompt = new SimulatedPrompt { Model = "baton-sim-1" };
        prompt.Messages.Add(new SimulatedMessage("user", "hi"));
        var answer = SimulatedModel.Answer(prompt, TimeProvider.System);

        var echoed = SimulatedEcho.WithKey(answer, key);

        Assert.EndsWith("The key I received is " + key + ".", echoed.Text);
        Assert.DoesNotContain(echoed.Pieces, piece => piece.Contains(key[..4], StringComparison.Ordinal));
        Assert.Equal(echoed.Pieces.Count, echoed.Usage.CompletionTokens);
        Assert.Equal(answer.Usage.PromptTokens, echoed.Usage.PromptTokens);
    }
}
