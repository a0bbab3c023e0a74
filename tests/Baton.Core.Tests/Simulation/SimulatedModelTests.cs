using Baton.Simulation;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Simulation;

public sealed class SimulatedModelTests
{
    private static SimulatedPrompt Prompt(int? maxTokens, string question = "Explain why the sky is blue in a few words, please, with some detail.")
    {
        var prompt = new SimulatedPrompt { Model = "baton-sim-reasoning-1", MaxTokens = maxTokens };
        prompt.Messages.Add(new SimulatedMessage("user", question));
        return prompt;
    }

    [Theory]
    [InlineData(5)]
    [InlineData(20)]
    [InlineData(40)]
    [InlineData(70)]
    public void Reasoning_and_answer_together_stay_within_max_tokens(int maxTokens)
    {
        var answer = SimulatedModel.Answer(Prompt(maxTokens), new FakeTimeProvider());

        Assert.True(answer.Usage.CompletionTokens <= maxTokens, $"{answer.Usage.CompletionTokens} completion tokens for max_tokens {maxTokens}");
        Assert.Equal(answer.Pieces.Count + answer.Usage.ReasoningTokens, answer.Usage.CompletionTokens);
    }

    [Fact]
    public void A_reasoning_model_without_a_limit_still_reasons()
    {
        var answer = SimulatedModel.Answer(Prompt(null), new FakeTimeProvider());

        Assert.InRange(answer.Usage.ReasoningTokens, 16, 63);
        Assert.Equal("stop", answer.FinishReason);
    }
}
